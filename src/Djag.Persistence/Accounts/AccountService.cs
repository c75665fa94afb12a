using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Persistence.Accounts;

/// <summary>
/// Users of the admin and tokens of the HTTP API. There is no default password: a user gets the password
/// given or a generated one that is shown once; a token is shown once at creation and stored as a hash.
/// </summary>
public sealed partial class AccountService(DjagDbContext db, TimeProvider time)
{
    public const int MinPasswordLength = 12;
    private const string TokenPrefix = "djag_";
    private static readonly PasswordHasher<User> Hasher = new();

    /// <summary>Adds a user; returns the password, generated when <paramref name="password"/> is null.</summary>
    public async Task<string> AddUserAsync(string name, string role, string? password, CancellationToken cancellationToken = default)
    {
        ValidateName("name", name);
        ValidateRole(role);
        if (password is not null && password.Length < MinPasswordLength)
        {
            throw OperationException.Invalid("password", $"must be at least {MinPasswordLength} characters");
        }

        if (await db.Users.AnyAsync(u => u.Name == name, cancellationToken))
        {
            throw OperationException.Conflict("name", $"a user named '{name}' exists already");
        }

        password ??= NewSecret(18);
        var user = new User { Name = name, Role = role, PasswordHash = "", CreatedAt = Now() };
        user.PasswordHash = Hasher.HashPassword(user, password);
        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return password;
    }

    /// <summary>The user when <paramref name="password"/> is theirs, else null (unknown users cost the same hash check).</summary>
    public async Task<User?> SignInAsync(string name, string password, CancellationToken cancellationToken = default)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Name == name, cancellationToken);
        var probe = user ?? new User { Name = name, Role = Roles.ReadOnly, PasswordHash = UnknownUserHash.Value };
        var verdict = Hasher.VerifyHashedPassword(probe, probe.PasswordHash, password);
        return user is not null && verdict != PasswordVerificationResult.Failed ? user : null;
    }

    /// <summary>Creates a token and returns it; this is the only time its text exists outside the caller.</summary>
    public async Task<string> CreateTokenAsync(string name, string role, CancellationToken cancellationToken = default)
    {
        ValidateName("name", name);
        ValidateRole(role);
        if (await db.ApiTokens.AnyAsync(t => t.Name == name, cancellationToken))
        {
            throw OperationException.Conflict("name", $"a token named '{name}' exists already");
        }

        var token = TokenPrefix + NewSecret(32);
        db.ApiTokens.Add(new ApiToken { Name = name, Role = role, TokenHash = Hash(token), CreatedAt = Now() });
        await db.SaveChangesAsync(cancellationToken);
        return token;
    }

    /// <summary>The token's record when <paramref name="token"/> is a live token, else null.</summary>
    public Task<ApiToken?> FindTokenAsync(string token, CancellationToken cancellationToken = default)
    {
        var hash = Hash(token);
        return db.ApiTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
    }

    public async Task RevokeTokenAsync(string name, CancellationToken cancellationToken = default)
    {
        if (await db.ApiTokens.Where(t => t.Name == name).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw OperationException.NotFound("name", $"no token named '{name}'");
        }
    }

    public Task<bool> AnyUserAsync(CancellationToken cancellationToken = default) => db.Users.AnyAsync(cancellationToken);

    // Tokens carry 256 random bits, so one unsalted SHA-256 is enough to make the stored value useless;
    // a slow password hash would only slow every API request.
    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string NewSecret(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void ValidateName(string field, string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw OperationException.Invalid(field, $"'{name}' is not a valid name: use 1-64 of A-Z a-z 0-9 . _ @ -");
        }
    }

    private static void ValidateRole(string role)
    {
        if (!Roles.All.Contains(role))
        {
            throw OperationException.Invalid("role", $"'{role}' is not a role: use {string.Join(" or ", Roles.All)}");
        }
    }

    private Instant Now() => Instant.FromDateTimeOffset(time.GetUtcNow());

    private static readonly Lazy<string> UnknownUserHash = new(() => Hasher.HashPassword(new User { Name = "", Role = "", PasswordHash = "" }, NewSecret(18)));

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,64}$")]
    private static partial Regex NamePattern();
}
