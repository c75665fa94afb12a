using System.Net;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Api;

/// <summary>/dependencies: edges created, changed and deleted through the write path.</summary>
public sealed class ApiDependencyTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_edge_is_created_changed_listed_and_deleted()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform")] });

        var created = await ApiAssert.ReadAsync<DependencyView>(await api.Admin.PutAsync("/api/v1/dependencies/transform/extract", null, Ct), HttpStatusCode.Created);
        var changed = await ApiAssert.ReadAsync<DependencyView>(
            await api.Admin.PutAsync("/api/v1/dependencies/transform/extract", ApiHost.Json("""{"condition": "completion", "future_depends": true}"""), Ct));
        var listed = await ApiAssert.ReadAsync<List<DependencyView>>(await api.ReadOnly.GetAsync("/api/v1/dependencies", Ct));
        bool stored;
        await using (var context = api.Db.Context())
        {
            var row = await context.TaskDependencies.SingleAsync(Ct);
            stored = row.FutureDepends && row.Condition == DependencyCondition.Completion;
        }

        await ApiAssert.NoContentAsync(await api.Admin.DeleteAsync("/api/v1/dependencies/transform/extract", Ct));
        var gone = await ApiAssert.ProblemAsync(await api.Admin.DeleteAsync("/api/v1/dependencies/transform/extract", Ct), HttpStatusCode.NotFound, "not_found");

        Assert.Equal(("transform", "extract", false, "success"), (created.Depender, created.Dependee, created.FutureDepends, created.Condition));
        Assert.Equal((true, "completion"), (changed.FutureDepends, changed.Condition));
        Assert.Equal(changed, Assert.Single(listed));
        Assert.True(stored);
        ApiAssert.Names(gone, "dependency", "transform -> extract");
        Assert.Equal(0, await api.Db.CountAsync("task_dependencies"));
    }

    [Fact]
    public async Task An_edge_closing_a_cycle_is_refused_naming_the_cycle()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks = [TestDatabase.Task("a"), TestDatabase.Task("b"), TestDatabase.Task("c")],
            Dependencies = [new("b", "a"), new("c", "b")],
        });
        var actions = await api.Db.CountAsync("user_actions");

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/dependencies/a/c", null, Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, "dependencies", "cycle");
        var message = problem.Errors.Single().Message;
        Assert.All(["a", "b", "c"], name => Assert.Contains(name, message, StringComparison.Ordinal));
        Assert.Equal((2L, actions), (await api.Db.CountAsync("task_dependencies"), await api.Db.CountAsync("user_actions")));
    }

    [Theory]
    [InlineData("/api/v1/dependencies/ghost/a", "depender")]
    [InlineData("/api/v1/dependencies/a/ghost", "dependee")]
    public async Task An_edge_of_an_unknown_task_is_404(string route, string field)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync(route, null, Ct), HttpStatusCode.NotFound, "not_found");

        ApiAssert.Names(problem, field, "ghost");
        Assert.Equal(0, await api.Db.CountAsync("task_dependencies"));
    }

    [Theory]
    [InlineData("""{"condition": "sometimes"}""", "condition")]
    [InlineData("""{"future_depends": "yes"}""", "future_depends")]
    [InlineData("""{"futur_depends": true}""", "futur_depends")]
    public async Task A_bad_edge_body_is_refused_naming_the_field(string body, string field)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a"), TestDatabase.Task("b")] });

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/dependencies/b/a", ApiHost.Json(body), Ct), HttpStatusCode.BadRequest, "invalid");

        Assert.Equal(field, problem.Errors.Single().Field);
        Assert.Equal(0, await api.Db.CountAsync("task_dependencies"));
    }

    [Fact]
    public async Task A_self_edge_needs_future_depends()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });

        var refused = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/dependencies/a/a", null, Ct), HttpStatusCode.BadRequest, "invalid");
        var allowed = await ApiAssert.ReadAsync<DependencyView>(
            await api.Admin.PutAsync("/api/v1/dependencies/a/a", ApiHost.Json("""{"future_depends": true}"""), Ct), HttpStatusCode.Created);

        ApiAssert.Names(refused, "dependencies[a->a]", "future_depends");
        Assert.True(allowed.FutureDepends);
    }
}
