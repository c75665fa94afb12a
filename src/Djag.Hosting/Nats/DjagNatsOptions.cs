using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Djag.Hosting.Nats;

/// <summary>
/// How a Djag service uses NATS beyond its URL (section <c>Nats</c>, environment <c>DJAG_NATS__*</c>):
/// the replica count of the stream and buckets it creates, and the user it logs in as. The URL stays
/// <c>DJAG_NATS_URL</c>; credentials are kept out of it because the URL is logged.
/// </summary>
public sealed class DjagNatsOptions
{
    public const string Section = "Nats";
    public const int DefaultReplicas = 1;
    public const int MaxReplicas = 5;

    /// <summary>
    /// Replicas of the runs stream and both buckets when this service creates them (<c>DJAG_NATS__REPLICAS</c>):
    /// 1 on a single server, 3 (or 5) on a JetStream cluster. Existing ones are left as they are.
    /// </summary>
    public int Replicas { get; set; } = DefaultReplicas;

    /// <summary>The NATS user (<c>DJAG_NATS__USER</c>); empty: no user/password login.</summary>
    public string User { get; set; } = "";

    /// <summary>The NATS user's password (<c>DJAG_NATS__PASSWORD</c>).</summary>
    public string Password { get; set; } = "";

    /// <summary>Binds the section, validated at start.</summary>
    public static void AddTo(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<DjagNatsOptions>().Bind(builder.Configuration.GetSection(Section)).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DjagNatsOptions>, DjagNatsOptionsValidator>());
    }

    /// <summary><paramref name="opts"/> with this user's credentials.</summary>
    public NatsOpts Apply(NatsOpts opts)
    {
        ArgumentNullException.ThrowIfNull(opts);

        // NATS.Net's 2 s connect timeout fails a start on a busy machine (a host booting every service at once);
        // an unreachable server is refused at once whatever the timeout.
        opts = opts with { ConnectTimeout = TimeSpan.FromSeconds(10) };
        return string.IsNullOrEmpty(User) ? opts : opts with { AuthOpts = opts.AuthOpts with { Username = User, Password = Password } };
    }
}

public sealed class DjagNatsOptionsValidator : IValidateOptions<DjagNatsOptions>
{
    public ValidateOptionsResult Validate(string? name, DjagNatsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Replicas is < 1 or > DjagNatsOptions.MaxReplicas)
        {
            failures.Add($"Nats:Replicas (DJAG_NATS__REPLICAS) is {options.Replicas}; give 1 (one server) to {DjagNatsOptions.MaxReplicas} (a JetStream cluster of at least that many servers)");
        }

        if (string.IsNullOrEmpty(options.User) && !string.IsNullOrEmpty(options.Password))
        {
            failures.Add("Nats:Password (DJAG_NATS__PASSWORD) is set without Nats:User (DJAG_NATS__USER)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
