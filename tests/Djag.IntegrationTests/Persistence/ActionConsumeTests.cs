using Djag.Beat.Changes;
using Djag.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

/// <summary>The beat's consume of user actions (<see cref="ChangeListener.ConsumeActionsSql"/>) as PostgreSQL runs it.</summary>
public sealed class ActionConsumeTests(ServersFixture servers)
{
    private const string TenThousandActions = """
        INSERT INTO djag.user_actions (action, payload, create_dt)
        SELECT 'TASK_CHANGED', jsonb_build_object('task', 't' || g, 'change', 'saved'), now() FROM generate_series(1, 10000) g
        """;

    [Fact]
    public async Task A_large_change_is_not_joined_action_by_action_after_the_table_was_analyzed_empty()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "consume");

        // An earlier change, consumed: the last ANALYZE saw only its deleted rows, so the statistics say the
        // table's pages hold nothing when the next large change arrives.
        await db.ExecuteAsync(TenThousandActions);
        await db.ExecuteAsync("DELETE FROM djag.user_actions");
        await db.ExecuteAsync("ANALYZE djag.user_actions");
        await db.ExecuteAsync(TenThousandActions);

        await using var context = db.Context();
        await context.Database.OpenConnectionAsync(ct);
        var now = Instant.FromUtc(2026, 3, 1, 12, 0);
        await using (var explain = new NpgsqlCommand($"EXPLAIN {ChangeListener.ConsumeActionsSql}", (NpgsqlConnection)context.Database.GetDbConnection()))
        {
            explain.Parameters.AddRange(ChangeListener.ConsumeActionsParameters(now));
            var plan = new List<string>();
            await using var reader = await explain.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                plan.Add(reader.GetString(0));
            }

            // A join under these statistics is a nested loop that reads every action once per action.
            Assert.DoesNotContain(plan, line => line.Contains("Join", StringComparison.Ordinal) || line.Contains("Nested Loop", StringComparison.Ordinal));
        }

        var payloads = await context.Database.SqlQueryRaw<string>(ChangeListener.ConsumeActionsSql, ChangeListener.ConsumeActionsParameters(now)).ToListAsync(ct);

        Assert.Equal(10_000, payloads.Count);
        Assert.Equal(0, await db.CountAsync("user_actions"));
        Assert.Equal(10_000, await db.CountAsync("user_action_audits"));
    }
}
