using System.Text.Json;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.UserActions;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Admin.Data;

public sealed record UserActionRow(long Id, string Action, string Payload, DateTimeOffset CreateDt, bool Internal);

public sealed record AuditRow(long Id, string Action, string Payload, DateTimeOffset CreateDt, DateTimeOffset DeleteDt);

/// <summary>
/// User actions and their audits, as the original's admin showed them. Users create only UNCLASSIFIED
/// actions (control signals for their own tasks); the internal ones are written by the schedule write path
/// and consumed by the beat, so they are read-only here, like the audits.
/// </summary>
public sealed class UserActionStore(DjagDbContext db, TimeProvider time)
{
    public const int MaxPayloadLength = 64 * 1024;

    public async Task<Page<UserActionRow>> ListActionsAsync(string? search, int offset, int limit, CancellationToken ct)
    {
        // The payload is jsonb: searched as its text.
        var query = string.IsNullOrWhiteSpace(search)
            ? db.UserActions.AsNoTracking()
            : db.UserActions.FromSql($"SELECT * FROM djag.user_actions WHERE action ILIKE {Like(search)} OR payload::text ILIKE {Like(search)}").AsNoTracking();

        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(a => a.Id).Skip(offset).Take(limit).ToListAsync(ct);
        return new Page<UserActionRow>(
            [.. rows.Select(a => new UserActionRow(a.Id, a.Action, a.Payload, a.CreateDt.ToDateTimeOffset(), UserActionCodes.Internal.Contains(a.Action)))],
            total, offset, limit);
    }

    public async Task<Page<AuditRow>> ListAuditsAsync(string? search, int offset, int limit, CancellationToken ct)
    {
        var query = string.IsNullOrWhiteSpace(search)
            ? db.UserActionAudits.AsNoTracking()
            : db.UserActionAudits.FromSql($"SELECT * FROM djag.user_action_audits WHERE action ILIKE {Like(search)} OR payload::text ILIKE {Like(search)}").AsNoTracking();

        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(a => a.Id).Skip(offset).Take(limit).ToListAsync(ct);
        return new Page<AuditRow>(
            [.. rows.Select(a => new AuditRow(a.Id, a.Action, a.Payload, a.CreateDt.ToDateTimeOffset(), a.DeleteDt.ToDateTimeOffset()))],
            total, offset, limit);
    }

    /// <summary>Adds an UNCLASSIFIED action; the payload must be JSON.</summary>
    public async Task<long> AddUnclassifiedAsync(string payload, CancellationToken ct)
    {
        if (payload.Length > MaxPayloadLength)
        {
            throw OperationException.Invalid("payload", $"is {payload.Length} characters long; at most {MaxPayloadLength} are allowed");
        }

        try
        {
            using var _ = JsonDocument.Parse(payload);
        }
        catch (JsonException ex)
        {
            throw OperationException.Invalid("payload", $"is not valid JSON: {ex.Message}");
        }

        var action = new UserAction { Action = UserActionCodes.Unclassified, Payload = payload, CreateDt = Instant.FromDateTimeOffset(time.GetUtcNow()) };
        db.UserActions.Add(action);
        await db.SaveChangesAsync(ct);
        return action.Id;
    }

    private static string Like(string search) =>
        "%" + search.Trim().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
