using System.Collections.Concurrent;
using Djag.Beat.Dispatch;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Djag.IntegrationTests.EndToEnd;

/// <summary>How the beat gathers evaluation requests into batches; the evaluation itself is a stand-in here.</summary>
public sealed class EvaluationsTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_made_while_a_batch_runs_are_evaluated_together_in_the_next_once_each()
    {
        var batches = new ConcurrentQueue<string[]>();
        var release = new TaskCompletionSource();
        await using var evaluations = await StartAsync(async (names, _) =>
        {
            batches.Enqueue([.. names.Order(StringComparer.Ordinal)]);
            if (names.Contains("first"))
            {
                await release.Task;
            }
        });

        var first = evaluations.Service.EvaluateAsync("first");
        await WaitUntilAsync(() => !batches.IsEmpty);
        var waiting = new[] { evaluations.Service.EvaluateAsync("b"), evaluations.Service.EvaluateAsync("a"), evaluations.Service.EvaluateAsync("b") };
        Assert.False(waiting.Any(t => t.IsCompleted), "a request completed before any evaluation of it ran");

        release.SetResult();
        await first.WaitAsync(_ct);
        await Task.WhenAll(waiting).WaitAsync(_ct);
        Assert.Equal([["first"], ["a", "b"]], batches.ToArray());
    }

    [Fact]
    public async Task A_task_requested_while_its_evaluation_runs_is_evaluated_again_and_its_caller_waits_for_that()
    {
        var evaluated = new ConcurrentQueue<string>();
        var release = new TaskCompletionSource();
        await using var evaluations = await StartAsync(async (names, _) =>
        {
            evaluated.Enqueue(string.Join(",", names));
            if (evaluated.Count == 1)
            {
                await release.Task;
            }
        });

        var before = evaluations.Service.EvaluateAsync("a");
        await WaitUntilAsync(() => !evaluated.IsEmpty);

        // A report released "a" while its evaluation read the older state: that evaluation cannot answer this request.
        var during = evaluations.Service.EvaluateAsync("a");
        Assert.NotSame(before, during);
        release.SetResult();
        await Task.WhenAll(before, during).WaitAsync(_ct);
        Assert.Equal(["a", "a"], evaluated.ToArray());
    }

    [Fact]
    public async Task A_failing_batch_is_evaluated_task_by_task_and_only_the_failing_tasks_callers_see_the_error()
    {
        var release = new TaskCompletionSource();
        var gated = new TaskCompletionSource();
        var singles = new ConcurrentQueue<string>();
        await using var evaluations = await StartAsync(async (names, _) =>
        {
            if (names.Contains("gate"))
            {
                gated.SetResult();
                await release.Task;
                return;
            }

            if (names.Count == 1)
            {
                singles.Enqueue(names.Single());
            }

            if (names.Contains("bad"))
            {
                throw new InvalidOperationException("cannot evaluate bad");
            }
        });

        var gate = evaluations.Service.EvaluateAsync("gate");
        await gated.Task.WaitAsync(_ct);
        var good = evaluations.Service.EvaluateAsync("good");
        var bad = evaluations.Service.EvaluateAsync("bad");
        release.SetResult();

        await Task.WhenAll(gate, good).WaitAsync(_ct);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad.WaitAsync(_ct));
        Assert.Equal("cannot evaluate bad", error.Message);
        Assert.Equal(["bad", "good"], singles.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task A_released_task_whose_evaluation_fails_is_evaluated_again_after_growing_pauses_until_it_succeeds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var attempts = 0;
        await using var evaluations = await StartAsync(
            (_, _) => Interlocked.Increment(ref attempts) <= 2 ? throw new InvalidOperationException("PostgreSQL is away") : Task.CompletedTask,
            time);

        evaluations.Service.Release(["load"]);
        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 1);
        for (var step = 0; step < 600 && Volatile.Read(ref attempts) < 3; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5, _ct);
        }

        // Pauses of 200 ms, then 400 ms, came before the second and third attempts; after the success nothing is retried.
        Assert.Equal(3, Volatile.Read(ref attempts));
        Assert.True(time.GetUtcNow() - DateTimeOffset.UnixEpoch >= TimeSpan.FromMilliseconds(600), $"retried after {time.GetUtcNow() - DateTimeOffset.UnixEpoch}");
        time.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(50, _ct);
        Assert.Equal(3, Volatile.Read(ref attempts));
    }

    private static async Task<Running> StartAsync(Func<IReadOnlyCollection<string>, CancellationToken, Task> evaluate, TimeProvider? time = null)
    {
        var service = new Evaluations(evaluate, concurrency: 1, time ?? TimeProvider.System, NullLogger<Evaluations>.Instance);
        await service.StartAsync(CancellationToken.None);
        return new Running(service);
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(5, _ct);
        }
    }

    private sealed record Running(Evaluations Service) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Service.StopAsync(CancellationToken.None);
            Service.Dispose();
        }
    }
}
