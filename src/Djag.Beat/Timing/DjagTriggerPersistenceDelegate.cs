using Djag.Scheduling;
using NodaTime;
using Quartz.Extensibility;
using Quartz.Impl.AdoJobStore;

namespace Djag.Beat.Timing;

/// <summary>
/// Stores a <see cref="DjagTrigger"/>'s own properties in <c>qrtz_simprop_triggers</c>, the generic
/// property table Quartz's calendar-interval and daily-time-interval triggers use:
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>str_prop_1</term><description>the 6-field cron expression, seconds first</description></item>
/// <item><term>str_prop_2</term><description>the misfire policy (<see cref="MisfirePolicy"/> name)</description></item>
/// <item><term>str_prop_3</term><description>the format version of this row, "1"</description></item>
/// <item><term>time_zone_id</term><description>the IANA time zone id</description></item>
/// <item><term>long_prop_1</term><description>start-after instant, in ticks since the Unix epoch (UTC)</description></item>
/// <item><term>long_prop_2</term><description>grace period in seconds</description></item>
/// </list>
/// <para>The trigger row itself (<c>qrtz_triggers</c>) carries <c>trigger_type</c> = <see cref="Discriminator"/>.</para>
/// </remarks>
internal sealed class DjagTriggerPersistenceDelegate(TimeProvider clock) : SimplePropertiesTriggerPersistenceDelegateBase
{
    /// <summary>The value of <c>qrtz_triggers.trigger_type</c> for Djag triggers.</summary>
    public const string Discriminator = "DJAG_CRON";

    /// <summary>The value of <c>str_prop_3</c>: the layout of the row below.</summary>
    public const string FormatVersion = "1";

    public override bool CanHandleTriggerType(IOperableTrigger trigger) => trigger is DjagTrigger;

    public override string GetHandledTriggerTypeDiscriminator() => Discriminator;

    protected override SimplePropertiesTriggerProperties GetTriggerProperties(IOperableTrigger trigger) => PropertiesOf((DjagTrigger)trigger);

    /// <summary>The row's values for <paramref name="djag"/>, as Quartz stores them and as <see cref="StoredTriggers"/> copies them.</summary>
    public static SimplePropertiesTriggerProperties PropertiesOf(DjagTrigger djag)
    {
        ArgumentNullException.ThrowIfNull(djag);
        return new SimplePropertiesTriggerProperties
        {
            String1 = djag.CronExpression,
            String2 = djag.Misfire.ToString(),
            String3 = FormatVersion,
            TimeZoneId = djag.TimeZoneId,
            Long1 = djag.StartAfter.ToUnixTimeTicks(),
            Long2 = (long)djag.GracePeriod.TotalSeconds,
        };
    }

    protected override TriggerPropertyBundle GetTriggerPropertyBundle(SimplePropertiesTriggerProperties properties)
    {
        if (properties.String3 != FormatVersion)
        {
            throw new InvalidOperationException($"a {Discriminator} trigger row has format '{properties.String3}'; this beat reads format {FormatVersion}");
        }

        // CronSchedule.Parse validates expression and zone again, so a hand-edited row fails loudly here.
        var schedule = CronSchedule.Parse(properties.String1 ?? "", properties.TimeZoneId ?? "");
        var misfire = Enum.Parse<MisfirePolicy>(properties.String2 ?? "", ignoreCase: false);
        var startAfter = Instant.FromUnixTimeTicks(properties.Long1);
        var grace = Duration.FromSeconds(properties.Long2);
        return new TriggerPropertyBundle(new DjagScheduleBuilder(schedule, startAfter, misfire, grace, clock));
    }
}
