namespace Djag.Worker.Tasks;

/// <summary>One registered task: its name and how to run it with a run's scoped services.</summary>
internal sealed record TaskRegistration(string Name, Func<IServiceProvider, TaskContext, Task> Run);
