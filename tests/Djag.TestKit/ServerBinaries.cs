namespace Djag.TestKit;

/// <summary>Finds the server binaries, or fails with the command that installs them.</summary>
internal static class ServerBinaries
{
    public const string PostgresMissing =
        "PostgreSQL server binaries not found; install them with: apt-get install -y postgresql";

    public const string NatsMissing =
        "nats-server not found; install it with: apt-get install -y nats-server";

    private static readonly string[] PostgresTools = ["initdb", "pg_ctl", "postgres"];

    /// <summary>The bin directory of the newest /usr/lib/postgresql/N, else the one on PATH that has initdb, pg_ctl and postgres.</summary>
    public static string FindPostgresBinDirectory()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: ParseVersion(Path.GetFileName(dir))))
                .Where(candidate => candidate.Version is not null && HasPostgresTools(candidate.Dir))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Dir)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return PathDirectories().FirstOrDefault(HasPostgresTools)
            ?? throw new InvalidOperationException(PostgresMissing);
    }

    public static string FindNatsServer() =>
        PathDirectories()
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
            .Select(dir => Path.Combine(dir, "nats-server"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(NatsMissing);

    private static bool HasPostgresTools(string dir) =>
        PostgresTools.All(tool => File.Exists(Path.Combine(dir, tool)));

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version) ? version : null;

    private static string[] PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
}
