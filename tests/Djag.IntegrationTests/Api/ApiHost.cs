using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Djag.Api;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence;
using Djag.Persistence.Accounts;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace Djag.IntegrationTests.Api;

/// <summary>
/// The API in-process as a host serves it (AddDjagPersistence + AddDjagApi, MapDjagApi), on a migrated database
/// of the test's own with its fake clock, and clients holding an admin token, a read-only token and none.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly NatsConnection _nats;
    private readonly Func<HttpClient> _newClient;

    private ApiHost(WebApplication app, NatsConnection nats, TestDatabase db, Func<HttpClient> newClient, string adminToken, string readOnlyToken)
    {
        _app = app;
        _nats = nats;
        _newClient = newClient;
        Db = db;
        AdminToken = adminToken;
        Anonymous = newClient();
        Admin = WithToken(adminToken);
        ReadOnly = WithToken(readOnlyToken);
    }

    public TestDatabase Db { get; }

    public string AdminToken { get; }

    /// <summary>A handler into the TestServer, for a client of its own such as the CLI's.</summary>
    public HttpMessageHandler CreateHandler() => _app.GetTestServer().CreateHandler();

    public HttpClient Anonymous { get; }

    public HttpClient Admin { get; }

    public HttpClient ReadOnly { get; }

    public INatsKVContext KeyValue => _app.Services.GetRequiredService<INatsKVContext>();

    /// <summary>On TestServer; <paramref name="kestrel"/> serves on a loopback port instead, for what TestServer does not do (request size limits).</summary>
    public static async Task<ApiHost> StartAsync(ServersFixture servers, bool kestrel = false)
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "api");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        if (kestrel)
        {
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(db.Clock);
        builder.Services.AddDjagPersistence(db.ConnectionString);
        var nats = new NatsConnection(new NatsOpts { Url = servers.Nats.Url, Name = "api tests" });
        builder.Services.AddSingleton(nats.CreateKeyValueStoreContext());
        builder.Services.AddDjagApi();
        var app = builder.Build();
        app.MapDjagApi();
        await app.StartAsync(ct);

        string adminToken, readOnlyToken;
        await using (var context = db.Context())
        {
            var accounts = new AccountService(context, db.Clock);
            adminToken = await accounts.CreateTokenAsync("ci-admin", Roles.Admin, ct);
            readOnlyToken = await accounts.CreateTokenAsync("ci-reader", Roles.ReadOnly, ct);
        }

        Func<HttpClient> newClient = kestrel
            ? () => new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()) }
            : app.GetTestClient;
        return new ApiHost(app, nats, db, newClient, adminToken, readOnlyToken);
    }

    /// <summary>A client sending <c>Authorization: Bearer <paramref name="token"/></c>; the caller disposes it.</summary>
    public HttpClient WithToken(string token)
    {
        var client = _newClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        ReadOnly.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _nats.DisposeAsync();
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static JsonContent Json<T>(T value) => JsonContent.Create(value, options: OperationsJson.Options);
}
