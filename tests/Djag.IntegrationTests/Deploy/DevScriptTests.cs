using System.Diagnostics;
using System.Globalization;
using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence.Runs;
using Djag.TestKit;
using Npgsql;

namespace Djag.IntegrationTests.Deploy;

/// <summary>
/// deploy/dev/up.sh and down.sh as the README tells a new user to run them: the whole system comes up on
/// this machine, the sample schedule runs every task, and down.sh leaves nothing running. Uses the Release
/// build the test run was made from, free ports and a state directory of its own.
/// </summary>
public sealed class DevScriptTests : IAsyncDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("djag-dev-");

    public async ValueTask DisposeAsync()
    {
        // Whatever up.sh started is stopped even when an assertion failed half-way.
        await RunScript("down.sh", TimeSpan.FromSeconds(60));
        _state.Delete(recursive: true);
    }

    [Fact]
    public async Task Up_runs_the_sample_dag_and_down_stops_everything_it_started()
    {
        var ct = TestContext.Current.CancellationToken;

        // PostgreSQL runs as the postgres user when the tests run as root: it must reach the state directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_state.FullName, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        var (code, output) = await RunScript("up.sh", TimeSpan.FromMinutes(4));
        Assert.True(code == 0, output);
        Assert.Contains("Djag is up.", output, StringComparison.Ordinal);
        Assert.Matches(@"login\s+admin / \S{12,}", output);

        var env = File.ReadAllLines(Path.Combine(_state.FullName, "dev.env"))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('\''));
        using (var http = new HttpClient())
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(env["DJAG_ADMIN_URL"] + "/health", ct)).StatusCode);
        }

        // Every task of the sample runs within a minute of the apply (seconds-level crons).
        await using var db = new NpgsqlConnection(env["DJAG_DB"]);
        await db.OpenAsync(ct);
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(90);
        long tasks, ran;
        do
        {
            await Task.Delay(1000, ct);
            await using var count = new NpgsqlCommand(
                $"SELECT (SELECT count(*) FROM djag.periodic_tasks), (SELECT count(DISTINCT task_id) FROM djag.runs WHERE state = '{RunStates.Finished}')", db);
            await using var reader = await count.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (tasks, ran) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        while (ran < tasks && TimeProvider.System.GetUtcNow() < deadline);
        Assert.True(tasks > 0 && ran == tasks, $"{ran} of {tasks} sample tasks finished a run");

        var pids = Directory.GetFiles(Path.Combine(_state.FullName, "run"), "*.pid")
            .Select(f => int.Parse(File.ReadLines(f).First(), CultureInfo.InvariantCulture)).ToList();
        var postmaster = int.Parse(File.ReadLines(Path.Combine(_state.FullName, "pg", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        Assert.Equal(5, pids.Count); // nats, beat, two workers, admin

        (code, output) = await RunScript("down.sh", TimeSpan.FromSeconds(90));
        Assert.True(code == 0, output);
        Assert.All(pids.Append(postmaster), pid => Assert.False(Native.IsAlive(pid), $"pid {pid} still runs after down.sh"));
    }

    private async Task<(int Code, string Output)> RunScript(string script, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash", [Repository.File("deploy", "dev", script)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DJAG_STATE_DIR"] = _state.FullName;
        info.Environment["DJAG_SKIP_BUILD"] = "1";
        info.Environment["DJAG_PG_PORT"] = FreePort();
        info.Environment["DJAG_NATS_PORT"] = FreePort();
        info.Environment["DJAG_ADMIN_PORT"] = FreePort();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{script} did not finish within {timeout}\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FreePort() => ProcessRunner.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture);
}
