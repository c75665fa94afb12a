namespace Djag.IntegrationTests.Infrastructure;

/// <summary>Files of the checkout the tests run from, found by walking up from the test binaries to djag.sln.</summary>
internal static class Repository
{
    public static string File(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "djag.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException($"djag.sln not found above {AppContext.BaseDirectory}");
    }
}
