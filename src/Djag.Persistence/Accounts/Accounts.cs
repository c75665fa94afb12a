using NodaTime;

namespace Djag.Persistence.Accounts;

/// <summary>Someone who signs in to the admin. The password is stored only as an ASP.NET Core Identity hash.</summary>
public sealed class User
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public Instant CreatedAt { get; set; }
}

/// <summary>A bearer token for the HTTP API; only its SHA-256 hash is stored, so a database leak reveals no token.</summary>
public sealed class ApiToken
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string TokenHash { get; set; }
    public required string Role { get; set; }
    public Instant CreatedAt { get; set; }
}

/// <summary>What a user or token may do: <see cref="ReadOnly"/> reads everything, <see cref="Admin"/> also writes and operates.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string ReadOnly = "read_only";

    public static readonly IReadOnlyList<string> All = [Admin, ReadOnly];
}
