using Djag.Contracts;
using NATS.Client.Core;

namespace Djag.Hosting.Nats;

/// <summary>NATS serializers for the contract messages (source-generated JSON, snake_case).</summary>
public static class DjagSerializers
{
    public static NatsJsonContextSerializer<RunMessage> RunMessage { get; } = new(DjagJsonContext.Default);
    public static NatsJsonContextSerializer<RunReport> RunReport { get; } = new(DjagJsonContext.Default);
    public static NatsJsonContextSerializer<WorkerHeartbeat> WorkerHeartbeat { get; } = new(DjagJsonContext.Default);
}
