namespace Djag.Cli.Remote;

/// <summary>
/// The HTTP API could not be asked or did not answer as the contract says: unreachable, a refused token,
/// a server error or an answer that is not Djag's. Exit 1; <see cref="Field"/> is "server" or "token".
/// </summary>
internal sealed class RemoteException(string field, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Field { get; } = field;
}
