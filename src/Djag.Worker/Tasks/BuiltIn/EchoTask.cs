namespace Djag.Worker.Tasks.BuiltIn;

/// <summary><c>djag.echo</c>: writes its args and kwargs to the output; shows what a task receives.</summary>
internal sealed class EchoTask : IDjagTask
{
    public const string Name = "djag.echo";

    public async Task RunAsync(TaskContext context)
    {
        await context.Output.WriteLineAsync($"args: {context.Args.GetRawText()}");
        await context.Output.WriteLineAsync($"kwargs: {context.Kwargs.GetRawText()}");
    }
}
