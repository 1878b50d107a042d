using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>Opens the one upstream connection of a request or tunnel through the <see cref="EgressDialer"/>, which checks it first.</summary>
internal sealed partial class EgressUpstream(EgressDialer dialer, ILogger logger)
{
    /// <summary>
    /// The upstream connection, or null after telling the browser there is none: a refused tunnel is answered 403, a
    /// failed one 502; a refused or failed plain-HTTP request is closed unanswered. <paramref name="shown"/> is
    /// what the refusal names (the URL without its query, or the tunnel's host:port).
    /// </summary>
    public async Task<NetworkStream?> DialAsync(NetworkStream client, string host, int port, bool tunnel, string shown, EgressSession session, CancellationToken cancellationToken)
    {
        try
        {
            return new NetworkStream(await dialer.ConnectAsync(host, port, session.AllowedHosts, cancellationToken), ownsSocket: true);
        }
        catch (EgressFailure failure) when (failure.Code == Interfaces.Errors.ErrorCodes.UrlBlocked)
        {
            var message = $"url_blocked: {shown} refused: {failure.Message}.";
            session.Refuse(EgressProxy.Authority(host, port), message);
            LogRefused(logger, host, port, failure.Message);
            if (tunnel)
            {
                await EgressWire.RespondAsync(client, 403, "Forbidden", message);
            }

            return null;
        }
        catch (EgressFailure failure)
        {
            var message = $"browser_error: the request to {shown} failed: {failure.Message}.";
            session.Fail(EgressProxy.Authority(host, port), message);
            if (tunnel)
            {
                await EgressWire.RespondAsync(client, 502, "Bad Gateway", message);
            }

            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser egress refused {Host}:{Port}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string host, int port, string reason);
}
