using Djag.Cli;

// The only wall clock of the CLI: commands take their time from it.
return await DjagCommandLine.InvokeAsync(args, new CliConsole(Console.Out, Console.Error, TimeProvider.System));
