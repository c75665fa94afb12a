using Djag.Worker.Tasks;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Djag.Worker;

/// <summary>Registers the tasks a worker can run, by name: <c>builder.AddDjagWorker().AddTask&lt;ExtractTask&gt;("etl.extract")</c>.</summary>
public sealed class DjagWorkerBuilder
{
    internal DjagWorkerBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers <typeparamref name="TTask"/> under <paramref name="name"/>. It is resolved from a scope of its own
    /// for each run: transient unless registered otherwise before.
    /// </summary>
    public DjagWorkerBuilder AddTask<TTask>(string name)
        where TTask : class, IDjagTask
    {
        ValidateName(name);
        Services.TryAddTransient<TTask>();
        Services.AddSingleton(new TaskRegistration(name, (services, context) => services.GetRequiredService<TTask>().RunAsync(context)));
        return this;
    }

    /// <summary>Registers a delegate under <paramref name="name"/>: <c>.AddTask("etl.echo", ctx => ctx.Output.WriteLineAsync("hi"))</c>.</summary>
    public DjagWorkerBuilder AddTask(string name, Func<TaskContext, Task> run)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(run);
        Services.AddSingleton(new TaskRegistration(name, (_, context) => run(context)));
        return this;
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsWhiteSpace) || name.Length > 200)
        {
            throw new ArgumentException($"'{name}' is not a task name: 1-200 characters without spaces, e.g. 'etl.extract'", nameof(name));
        }
    }
}
