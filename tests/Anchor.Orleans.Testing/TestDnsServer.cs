using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Anchor.Orleans.Testing;

/// <summary>
/// A small authoritative DNS server on a loopback UDP port, answering A and AAAA queries as a test tells it to: fixed
/// answers, a rebinding name (one answer for the first lookup, another for every later one, TTL 0), SERVFAIL, or
/// NXDOMAIN for names it was told nothing about. It counts the queries per name.
/// </summary>
public sealed class TestDnsServer : IAsyncDisposable
{
    private const ushort TypeA = 1;
    private const ushort TypeAaaa = 28;

    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Func<int, IPAddress[]?>> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string Name, ushort Type), int> _queries = new();
    private readonly Task _serving;

    public TestDnsServer() => _serving = ServeAsync();

    public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

    /// <summary>The <c>Browser:DnsServers</c> entry for this server.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary><paramref name="name"/> always has <paramref name="addresses"/> (TTL 0).</summary>
    public void Answer(string name, params IPAddress[] addresses) => _names[name] = _ => addresses;

    /// <summary>The first lookup of <paramref name="name"/> gets <paramref name="first"/>, every later one <paramref name="then"/> (TTL 0).</summary>
    public void Rebind(string name, IPAddress first, IPAddress then) => _names[name] = n => n == 1 ? [first] : [then];

    /// <summary>Every query for <paramref name="name"/> is answered SERVFAIL.</summary>
    public void ServFail(string name) => _names[name] = _ => null;

    /// <summary>How many lookups of <paramref name="name"/> the server answered (A queries; a resolver asks A and AAAA once per lookup).</summary>
    public int Lookups(string name) => _queries.GetValueOrDefault((name.ToLowerInvariant(), TypeA));

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (Answer(received.Buffer) is { } reply)
            {
                await _udp.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 17 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
        {
            return null;
        }

        // Question: labels, then type and class.
        var labels = new List<string>();
        var at = 12;
        while (at < query.Length && query[at] != 0)
        {
            int length = query[at];
            if (length > 63 || at + 1 + length >= query.Length)
            {
                return null;
            }

            labels.Add(Encoding.ASCII.GetString(query, at + 1, length));
            at += 1 + length;
        }

        var questionEnd = at + 5;
        if (questionEnd > query.Length)
        {
            return null;
        }

        var name = string.Join('.', labels).ToLowerInvariant();
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(at + 1));
        var lookup = _queries.AddOrUpdate((name, type), 1, (_, n) => n + 1);

        var rule = _names.TryGetValue(name, out var found) ? found : null;
        var addresses = rule?.Invoke(lookup);
        var rcode = rule is null ? 3 : addresses is null ? 2 : 0; // NXDOMAIN, SERVFAIL, NOERROR
        var family = type == TypeAaaa ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var answers = (addresses ?? []).Where(a => a.AddressFamily == family && type is TypeA or TypeAaaa).ToList();

        using var reply = new MemoryStream();
        reply.Write(query, 0, 2); // ID
        var flags = (ushort)(0x8000 | 0x0400 | (query[2] & 0x01) << 8 | 0x0080 | rcode); // QR, AA, RD copied, RA, RCODE
        WriteUInt16(reply, flags);
        WriteUInt16(reply, 1);
        WriteUInt16(reply, (ushort)answers.Count);
        WriteUInt16(reply, 0);
        WriteUInt16(reply, 0);
        reply.Write(query, 12, questionEnd - 12);
        foreach (var address in answers)
        {
            WriteUInt16(reply, 0xC00C); // The name of the question.
            WriteUInt16(reply, type);
            WriteUInt16(reply, 1); // IN
            reply.Write([0, 0, 0, 0]); // TTL 0: never to be cached.
            var bytes = address.GetAddressBytes();
            WriteUInt16(reply, (ushort)bytes.Length);
            reply.Write(bytes);
        }

        return reply.ToArray();
    }

    private static void WriteUInt16(Stream stream, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        stream.Write(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        await _serving;
    }
}
