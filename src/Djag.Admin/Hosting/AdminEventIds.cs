namespace Djag.Admin.Hosting;

/// <summary>Event ids of the admin's own log messages (6000-6999; the beat uses 1000-3999).</summary>
internal static class AdminEventIds
{
    public const int WorkersUnavailable = 6100;
}
