namespace Djag.Cli;

/// <summary>Bad input found by the CLI itself (a flag, variable or config file): exit 2, nothing attempted.</summary>
internal sealed class CliInputException(string message) : Exception(message);
