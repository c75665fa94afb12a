namespace Djag.Cli.Connection;

/// <summary>Where a command's operations go; <see cref="Source"/> names the flag, variable or file it came from, for errors.</summary>
internal abstract record ConnectionTarget(string Source);

internal sealed record DatabaseTarget(string ConnectionString, string Source) : ConnectionTarget(Source);

internal sealed record ServerTarget(Uri BaseAddress, string Token, string Source) : ConnectionTarget(Source);
