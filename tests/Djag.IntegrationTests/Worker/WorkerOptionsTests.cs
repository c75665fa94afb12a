using Djag.Hosting.Configuration;
using Microsoft.Extensions.Options;

namespace Djag.IntegrationTests.Worker;

public sealed class WorkerOptionsTests
{
    [Fact]
    public async Task Every_bad_setting_is_reported_at_once()
    {
        using var host = InProcessWorker.Build("http://127.0.0.1:4222", tasks: null, configure: o => o.WorkerId = "has space", shutdownTimeout: null, queues: "default,bad queue!,default", concurrency: 0, out _);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(
            [
                "NatsUrl (DJAG_NATS_URL): 'http://127.0.0.1:4222' is not a NATS server URL; expected e.g. nats://127.0.0.1:4222",
                "Queues (--queues, DJAG_QUEUES): 'bad queue!' is not a queue name; a name is 1-64 of A-Z a-z 0-9 _ -",
                "Queues (--queues, DJAG_QUEUES): 'default' is listed more than once",
                "Concurrency (DJAG_CONCURRENCY): 0 is out of range: 1-1024",
                "WorkerId (DJAG_WORKER_ID): 'has space' is not a worker id; use up to 128 of A-Z a-z 0-9 _ = - and '.' inside",
            ],
            error.Failures);
    }

    [Fact]
    public async Task Unreachable_NATS_fails_the_start_naming_the_server()
    {
        var url = $"nats://127.0.0.1:{Loopback.FreePort()}";
        using var host = InProcessWorker.Build(url, tasks: null, configure: null, shutdownTimeout: null, queues: "default", concurrency: 1, out _);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith($"cannot connect to NATS at {url}: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NATS_URL", "NatsUrl")]
    [InlineData("QUEUES", "Queues")]
    [InlineData("WORKER_ID", "WorkerId")]
    [InlineData("LOGGING__LOG_LEVEL__DEFAULT", "Logging:LogLevel:Default")]
    public void Environment_variables_name_the_settings(string variable, string setting)
    {
        Assert.Equal(setting, DjagEnvironmentVariables.SettingName(variable));
    }
}
