using Djag.Cli;

// The only wall clock, environment and terminal of the CLI: commands take them from the console.
var console = new CliConsole(Console.Out, Console.Error, TimeProvider.System)
{
    In = Console.In,
    Environment = Environment.GetEnvironmentVariable,
    ErrorIsTerminal = !Console.IsErrorRedirected,
};
return await DjagCommandLine.InvokeAsync(args, console);
