using System.Text.Json;
using Djag.Contracts;

namespace Djag.Worker;

/// <summary>Everything a task gets about the run it executes.</summary>
public sealed class TaskContext
{
    private readonly RunMessage _run;

    /// <param name="run">the dispatched run</param>
    /// <param name="output">where the task's output goes; the worker keeps its last few KiB in the run's report</param>
    /// <param name="services">the run's scoped services</param>
    /// <param name="cancellationToken">fires on the run's timeout and when the worker gives the run back at shutdown</param>
    public TaskContext(RunMessage run, TextWriter output, IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(services);
        _run = run;
        Output = output;
        Services = services;
        CancellationToken = cancellationToken;
    }

    public long RunId => _run.RunId;

    /// <summary>The periodic task's name (<c>extract</c>).</summary>
    public string Name => _run.Name;

    /// <summary>The registered task being run (<c>etl.extract</c>).</summary>
    public string TaskName => _run.Task;

    /// <summary>The cron event's instant (for a manual run, when it was requested).</summary>
    public DateTimeOffset Cron => _run.Cron;

    /// <summary>1 for the first try; a retry of the same cron event is a new run with the next attempt.</summary>
    public int Attempt => _run.Attempt;

    /// <summary>Positional arguments: a JSON array.</summary>
    public JsonElement Args => _run.Args;

    /// <summary>Named arguments: a JSON object.</summary>
    public JsonElement Kwargs => _run.Kwargs;

    /// <summary>The task's headers: a JSON object.</summary>
    public JsonElement Headers => _run.Headers;

    public string Queue => _run.Queue;

    public int Priority => _run.Priority;

    /// <summary>The run's timeout, if it has one.</summary>
    public TimeSpan? Timeout => _run.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>Fires on the run's timeout and when the worker must give the run back at shutdown.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The run's scoped services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The task's output (thread-safe); the last few KiB go into the run's report.</summary>
    public TextWriter Output { get; }

    /// <summary>
    /// Binds the run's arguments to <typeparamref name="TArgs"/> with System.Text.Json: kwargs by their
    /// snake_case names (<c>expected_status</c> → <c>ExpectedStatus</c>), positional args to the constructor
    /// parameters in order. Unknown and missing arguments and wrong types throw a
    /// <see cref="TaskArgumentException"/> naming the argument, which fails the run with that message.
    /// </summary>
    public TArgs Bind<TArgs>() => TaskArguments.Bind<TArgs>(Args, Kwargs);
}
