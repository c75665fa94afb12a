using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Scheduling.Tests.ScheduleFiles;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Djag.IntegrationTests.Api;

/// <summary>
/// Generated bad task bodies, schedule files and dependency edges against the API on a real database: each is
/// answered with a 4xx problem that names the field (never a 500), and the database is exactly as before; the
/// valid ones among them (unicode, SQL and HTML injection strings) are stored verbatim.
/// </summary>
public sealed class ApiBadInputPropertyTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Tables = ["crontabs", "periodic_tasks", "task_dependencies", "user_actions", "runs"];

    [Fact]
    public async Task Property_a_bad_task_body_is_a_problem_naming_the_field_and_changes_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("keep")] });

        // Each sample reads what it expects from the database, not from earlier samples, so a sample that CsCheck
        // replays while shrinking is judged as it would be alone.
        await BadInputGen.BadTasks.SampleAsync(async bad =>
        {
            var before = await SnapshotAsync(api.Db);
            var fresh = bad.Valid && !await ExistsAsync(api.Db, (string)bad.Entry["name"]!);
            using var response = await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json(bad.Json()), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            if (fresh)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"{bad.Kind}: expected 201, got {(int)response.StatusCode}: {text}");
                await AssertStoredVerbatimAsync(api.Db, bad.Entry);
                return;
            }

            // A valid entry whose name an earlier one took is a conflict on the name.
            var problem = ReadProblem(response, text, bad.Kind);
            var field = bad.Valid ? "name" : bad.Field;
            Assert.True(problem.Errors.Any(e => Names(bad with { Field = field }, e.Field)), $"{bad.Kind}: no error names '{field}': {text}");
            Assert.Equal(before, await SnapshotAsync(api.Db));
        }, iter: 100, threads: 1, print: b => b.ToString());
    }

    [Fact]
    public async Task Property_a_schedule_file_with_one_bad_task_is_a_problem_naming_its_path_and_changes_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("keep")] });
        var before = await SnapshotAsync(api.Db);

        await Gen.Select(BadInputGen.Document, BadInputGen.BadTasks, Gen.Bool, Gen.Bool).SampleAsync(async (file, bad, yaml, prune) =>
        {
            // The bad entry goes last, named apart from the others, so its path is tasks[n] whatever the rest holds.
            var tasks = file["tasks"]!.AsArray();
            var index = tasks.Count;
            var entry = (JsonObject)bad.Entry.DeepClone();
            var names = tasks.Select(t => (string)t!["name"]!).ToHashSet(StringComparer.Ordinal);
            if (bad.Field != "name" && entry["name"] is JsonValue name && name.TryGetValue<string>(out var n) && names.Contains(n))
            {
                entry["name"] = "bad entry";
            }

            tasks.Add(entry);
            var yamlBody = yaml && !bad.HasLoneSurrogate;
            var content = new StringContent(bad.Render(file.ToJsonString()), Encoding.UTF8, yamlBody ? "application/yaml" : "application/json");
            using var response = await api.Admin.PutAsync($"/api/v1/schedule?prune={(prune ? "true" : "false")}", content, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            if (bad.Valid || (yamlBody && bad.YamlReadsAsString))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{bad.Kind}: expected 200, got {(int)response.StatusCode}: {text}");
                before = await SnapshotAsync(api.Db);
                return;
            }

            var problem = ReadProblem(response, text, bad.Kind);
            var prefix = $"tasks[{index}]";
            Assert.True(
                problem.Errors.Any(e => (bad.TooDeep && e.Field.Length == 0) || (e.Field.StartsWith(prefix, StringComparison.Ordinal) && Names(bad, e.Field[prefix.Length..].TrimStart('.')))),
                $"{bad.Kind}: no error names {prefix}.{bad.Field}: {text}");
            Assert.Equal(before, await SnapshotAsync(api.Db));
        }, iter: 60, threads: 1, print: t => $"{t.Item2} yaml={t.Item3}");
    }

    [Fact]
    public async Task Cycles_of_length_1_to_50_are_refused_as_an_edge_and_as_a_file_and_nothing_is_saved()
    {
        await using var api = await ApiHost.StartAsync(servers);

        // A chain t0 -> t1 -> ... -> t49 (each waits on the next); the edge t{L-1} -> t0 closes a cycle of length L.
        var chain = BadInputGen.Cycle(50, seed: 0);
        chain["dependencies"] = new JsonArray([.. Enumerable.Range(0, 49).Select(i => (JsonNode)new JsonObject { ["depender"] = $"t{i}", ["dependee"] = $"t{i + 1}" })]);
        chain["tasks"] = new JsonArray([.. chain["tasks"]!.AsArray().Take(50).Select(t => t!.DeepClone())]);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", ApiHost.Json(chain.ToJsonString()), Ct));
        var before = await SnapshotAsync(api.Db);

        for (var length = 1; length <= 50; length++)
        {
            var edge = await ApiAssert.ProblemAsync(await api.Admin.PutAsync($"/api/v1/dependencies/t{length - 1}/t0", null, Ct), HttpStatusCode.BadRequest, "invalid");
            var file = await ApiAssert.ProblemAsync(
                await api.Admin.PutAsync("/api/v1/schedule?prune=true", ApiHost.Json(BadInputGen.Cycle(length, seed: length).ToJsonString()), Ct),
                HttpStatusCode.BadRequest, "invalid");

            if (length == 1)
            {
                ApiAssert.Names(edge, "dependencies[t0->t0]", "future_depends");
                Assert.StartsWith("dependencies[", Assert.Single(file.Errors).Field, StringComparison.Ordinal);
            }
            else
            {
                ApiAssert.Names(edge, "dependencies", "cycle");
                ApiAssert.Names(file, "dependencies", "cycle");
                Assert.All(Enumerable.Range(0, length), i => Assert.Contains($"t{i} ", edge.Errors.Single().Message + " ", StringComparison.Ordinal));
            }

            Assert.Equal(before, await SnapshotAsync(api.Db));
        }
    }

    [Theory]
    [InlineData("/api/v1/tasks?search=a%00b", "search")]
    [InlineData("/api/v1/runs?task=%00", "task")]
    [InlineData("/api/v1/runs?state=%00", "state")]
    [InlineData("/api/v1/tasks?sort=%00", "sort")]
    [InlineData("/api/v1/schedule?format=%00", "format")]
    [InlineData("/api/v1/tasks?search=%ED%A0%80", "")]
    public async Task A_nul_in_a_query_parameter_is_refused_naming_it(string route, string field)
    {
        await using var api = await ApiHost.StartAsync(servers);

        using var response = await api.ReadOnly.GetAsync(route, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        // %ED%A0%80 is a UTF-8 encoded surrogate: the server decodes it as U+FFFD, so it is a search for that, found nowhere.
        if (field.Length == 0)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return;
        }

        var problem = ReadProblem(response, text, route);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(problem.Errors, e => e.Field == field && e.Message.Contains("NUL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_kestrel_a_nul_in_the_path_is_refused_and_the_rest_still_works()
    {
        await using var api = await ApiHost.StartAsync(servers, kestrel: true);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("keep")] });
        var before = await SnapshotAsync(api.Db);

        foreach (var route in new[] { "/api/v1/tasks/a%00b", "/api/v1/tasks/a%00b/why", "/api/v1/dependencies/keep/a%00b" })
        {
            using var get = await api.Admin.GetAsync(route, Ct);
            using var put = await api.Admin.PutAsync(route, null, Ct);
            using var delete = await api.Admin.DeleteAsync(route, Ct);
            Assert.All([get, put, delete], r => Assert.True((int)r.StatusCode is >= 400 and < 500, $"{r.RequestMessage!.Method} {route}: {(int)r.StatusCode}"));
        }

        using var search = await api.Admin.GetAsync("/api/v1/tasks?search=%00", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, search.StatusCode);
        Assert.Equal(before, await SnapshotAsync(api.Db));
        Assert.Equal("keep", (await ApiAssert.ReadAsync<TaskDetail>(await api.Admin.GetAsync("/api/v1/tasks/keep", Ct))).Summary.Name);
    }

    private static bool Names(BadTask bad, string field) =>
        bad.Names(field) || field.EndsWith("." + bad.Field, StringComparison.Ordinal) || field.Contains("." + bad.Field + "[", StringComparison.Ordinal);

    private static Problem ReadProblem(HttpResponseMessage response, string text, string what)
    {
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{what}: expected a 4xx, got {status}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<Problem>(text, OperationsJson.Options)!;
        Assert.Equal(status, problem.Status);
        Assert.NotEmpty(problem.Errors);
        Assert.All(problem.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
        return problem;
    }

    /// <summary>The task named in <paramref name="entry"/> holds its text exactly, JSON values equal.</summary>
    private static async Task AssertStoredVerbatimAsync(TestDatabase db, JsonObject entry)
    {
        var name = (string)entry["name"]!;
        await using var context = db.Context();
        var row = await context.PeriodicTasks.AsNoTracking().SingleAsync(t => t.Name == name, Ct);
        Assert.Equal((string)entry["task"]!, row.Task);
        Assert.Equal((string?)entry["description"] ?? "", row.Description);
        Assert.True(JsonNode.DeepEquals(entry["args"] ?? new JsonArray(), JsonNode.Parse(row.Args)), row.Args);
        Assert.True(JsonNode.DeepEquals(entry["kwargs"] ?? new JsonObject(), JsonNode.Parse(row.Kwargs)), row.Kwargs);
    }

    private static async Task<bool> ExistsAsync(TestDatabase db, string name)
    {
        await using var context = db.Context();
        return await context.PeriodicTasks.AnyAsync(t => t.Name == name, Ct);
    }

    /// <summary>A digest of every row of the schedule's tables, so "nothing changed" includes what no count shows.</summary>
    private static async Task<string> SnapshotAsync(TestDatabase db)
    {
        var sql = string.Join(" || '/' || ", Tables.Select(t => $"(SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM djag.{t} r)"));
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand($"SELECT {sql}", connection);
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }
}
