using Djag.Persistence.Operations;

namespace Djag.Cli.Output;

internal static class PageFooter
{
    /// <summary>Under a table, when the page is not everything: which rows these are and how to see the rest.</summary>
    public static void Write<T>(TextWriter output, Page<T> page, string what)
    {
        if (page.Items.Count < page.Total)
        {
            var first = page.Items.Count == 0 ? page.Offset : page.Offset + 1;
            output.WriteLine($"({what} {first}-{page.Offset + page.Items.Count} of {page.Total}; see more with --offset and --limit)");
        }
    }
}
