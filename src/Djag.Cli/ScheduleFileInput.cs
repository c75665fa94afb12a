using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli;

/// <summary>Reads and parses the schedule file a command names, printing every problem the way all commands do.</summary>
internal static class ScheduleFileInput
{
    /// <summary>The document, or null with the exit code after the problems were printed.</summary>
    public static async Task<(ScheduleDocument? Document, int ExitCode)> LoadAsync(CliConsole console, string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, console.BadInput($"{path}: no such file"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, console.Failed($"{path}: {ex.Message}"));
        }

        var parsed = ScheduleFile.Parse(text, new ScheduleFileOptions(Format: ScheduleFile.DetectFormat(text, path)));
        foreach (var error in parsed.Errors)
        {
            await console.Error.WriteLineAsync($"error: {path}: {error}");
        }

        return (parsed.Document, parsed.Document is null ? ExitCodes.BadInput : ExitCodes.Ok);
    }
}
