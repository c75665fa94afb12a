using Djag.Bench;

// The first Ctrl-C cancels the run, which stops everything it started on the way out; a second one ends the
// process at once (children are then killed from the exit handler of ServiceProcess and the TestKit servers).
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

if (!BenchOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

try
{
    return await BenchRunner.RunAsync(options, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("cancelled; everything the bench started is stopped");
    return 130;
}
