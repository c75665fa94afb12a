using Microsoft.AspNetCore.Http.Extensions;

namespace Djag.Admin.Display;

/// <summary>Links to other pages of a list, keeping the query's other parameters.</summary>
public sealed record Pager(int Offset, int Limit, int Total, string Path, IReadOnlyDictionary<string, string?> Query)
{
    public string Link(int offset)
    {
        var query = new QueryBuilder();
        foreach (var (key, value) in Query)
        {
            if (!string.IsNullOrEmpty(value) && key != "offset")
            {
                query.Add(key, value);
            }
        }

        query.Add("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Path + query.ToQueryString();
    }

    public static Pager For(HttpRequest request, int offset, int limit, int total)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Pager(offset, limit, total, request.Path, request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString()));
    }
}
