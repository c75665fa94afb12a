using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// Per-task retries (section 5, beyond the original). Attempts count from 1; a task runs at most
/// 1 + <see cref="MaxRetries"/> times per cron event. The delay after failed attempt n is
/// <see cref="Backoff"/> × <see cref="BackoffMultiplier"/>^(n-1), capped at <see cref="MaxBackoff"/>.
/// </summary>
public sealed record RetryPolicy(int MaxRetries, Duration Backoff, double BackoffMultiplier = 1.0, Duration? MaxBackoff = null)
{
    /// <summary>Whether attempt <paramref name="failedAttempt"/>, which failed at <paramref name="failedAt"/>, is retried, and when.</summary>
    public RetryDecision Decide(int failedAttempt, Instant failedAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempt, 1);
        if (failedAttempt > MaxRetries)
        {
            return new RetryDecision(false, null, null);
        }

        var factor = Math.Pow(Math.Max(1.0, BackoffMultiplier), failedAttempt - 1);
        var seconds = Backoff.TotalSeconds * factor;
        if (MaxBackoff is { } cap && seconds > cap.TotalSeconds)
        {
            seconds = cap.TotalSeconds;
        }

        // Beyond a century the delay is meaningless; clamping keeps Duration arithmetic in range.
        var delay = Duration.FromSeconds(Math.Min(seconds, 100 * 365.25 * 86400));
        return new RetryDecision(true, failedAt + delay, failedAttempt + 1);
    }
}

/// <summary>Retry <see cref="NextAttempt"/> at <see cref="At"/>, or give up (Retry false, both null).</summary>
public sealed record RetryDecision(bool Retry, Instant? At, int? NextAttempt);
