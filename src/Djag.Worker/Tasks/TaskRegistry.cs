namespace Djag.Worker.Tasks;

/// <summary>The registered tasks by name; built once from every <see cref="TaskRegistration"/> in the container.</summary>
internal sealed class TaskRegistry
{
    private readonly Dictionary<string, TaskRegistration> _tasks = new(StringComparer.Ordinal);

    public TaskRegistry(IEnumerable<TaskRegistration> registrations)
    {
        var duplicates = new List<string>();
        foreach (var registration in registrations)
        {
            if (!_tasks.TryAdd(registration.Name, registration))
            {
                duplicates.Add(registration.Name);
            }
        }

        if (duplicates.Count > 0)
        {
            throw new InvalidOperationException($"tasks registered more than once: {string.Join(", ", duplicates.Distinct().Order(StringComparer.Ordinal))}");
        }

        Names = [.. _tasks.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> Names { get; }

    public bool TryGet(string name, out TaskRegistration registration) => _tasks.TryGetValue(name, out registration!);

    public string UnknownTaskError(string name) => $"unknown task '{name}' (registered: {string.Join(", ", Names)})";
}
