namespace Djag.Worker;

/// <summary>
/// A task the worker runs by name: register it with <see cref="DjagWorkerBuilder.AddTask{TTask}(string)"/>.
/// A new instance is resolved from the service provider for each run (in a scope of its own), so it may take
/// services in its constructor.
/// </summary>
/// <example>
/// <code>
/// public sealed class ExtractTask(IHttpClientFactory http) : IDjagTask
/// {
///     public async Task RunAsync(TaskContext context)
///     {
///         var args = context.Bind&lt;ExtractArgs&gt;();
///         await context.Output.WriteLineAsync($"extracting {args.Table}");
///         ...
///     }
/// }
/// </code>
/// </example>
public interface IDjagTask
{
    /// <summary>
    /// Runs the task. Returning is success; throwing is failure (<see cref="TaskFailedException"/> for a plain
    /// message, any other exception is reported with its type). Honour <see cref="TaskContext.CancellationToken"/>:
    /// it fires on the run's timeout and when the worker must give the run back at shutdown.
    /// </summary>
    Task RunAsync(TaskContext context);
}
