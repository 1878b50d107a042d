using System.Text;
using System.Text.Json.Nodes;

namespace Anchor.Orleans.Api.Tests.Fuzz;

/// <summary>Where a malformed input goes: a method and a route template (query included), and whether it is an MCP endpoint.</summary>
public sealed record FuzzTarget(string Method, string Template, bool Mcp);

/// <summary>One generated request: what it breaks (<see cref="Kind"/>), and everything needed to send it again.</summary>
public sealed record FuzzInput(
    string Kind,
    FuzzTarget Target,
    string Path,
    string? Authorization,
    byte[]? Body,
    string? ContentType,
    IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString() =>
        $"{Kind}: {Target.Method} {Path} ({Body?.Length ?? 0} bytes, {ContentType ?? "no content type"}) {Encoding.UTF8.GetString(Body ?? [], 0, Math.Min(Body?.Length ?? 0, 160))}";
}

/// <summary>
/// Deterministic generator of malformed requests (a seeded <see cref="Random"/>): truncated and invalid JSON, wrong
/// types, huge numbers, deep nesting, invalid UTF-8, wrong content types, oversized bodies, odd headers, bad JSON-RPC
/// envelopes and bad session ids, spread over every target.
/// </summary>
public sealed class MalformedInputs(int seed, IReadOnlyList<FuzzTarget> targets, IReadOnlyDictionary<string, string> samples, long bodyLimit, string[] keys)
{
    private static readonly string[] Kinds =
    [
        "truncated-json", "invalid-json", "wrong-types", "huge-numbers", "deep-nesting", "invalid-utf8", "wrong-content-type",
        "oversized", "odd-headers", "bad-jsonrpc", "bad-session-id", "empty",
    ];

    private static readonly string[] JunkTokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "'x'", "nul", "tru", "NaN", "Infinity", "-", "1e", "//c", "/*", "\\u12", "\"\\x\"", "0x1F", "01", ".5", "\t", "\u0000",
    ];

    private static readonly string[] HugeNumbers =
    [
        "1e309", "-1e400", "123456789012345678901234567890123456789", "-9223372036854775809", "18446744073709551616",
        "0.00000000000000000000000000000000000000000000000000000000000000000000001", "1E+2147483648", "-0", "4.9e-325",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=latin1",
        "application/json; charset=utf-32", "image/png", "application/octet-stream", "*/*", "application/json;;;", "json",
    ];

    private static readonly string[] BadSessionIds =
    [
        "", " ", "null", "../../../etc/passwd", "%00", "0", "-1", "' OR 1=1 --", "{}", "ffffffffffffffffffffffffffffffff",
        "\"quoted\"", "a,b", "<script>", "${jndi:ldap://x}", "🙂",
    ];

    private readonly Random _random = new(seed);

    public IEnumerable<FuzzInput> Generate(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return Next(Kinds[i % Kinds.Length]);
        }
    }

    private FuzzInput Next(string kind)
    {
        var target = targets[_random.Next(targets.Count)];
        var path = Fill(target.Template, _random);
        var auth = _random.Next(20) switch
        {
            0 => null,
            1 => "Bearer not-a-key-" + _random.Next(),
            2 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("x:" + keys[0])),
            _ => "Bearer " + keys[_random.Next(keys.Length)],
        };
        var headers = new List<(string, string)>();
        if (target.Mcp)
        {
            headers.Add(("Accept", "application/json, text/event-stream"));
        }

        var sample = Sample(target);
        string? contentType = "application/json";
        byte[]? body = kind switch
        {
            "truncated-json" => Utf8(sample[.._random.Next(sample.Length)]),
            "invalid-json" => Utf8(InvalidJson(sample)),
            "wrong-types" => Utf8(WrongTypes(sample)),
            "huge-numbers" => Utf8(WithValue(sample, HugeNumbers[_random.Next(HugeNumbers.Length)])),
            "deep-nesting" => Utf8(Nested(_random.Next(2) == 0 ? 65 + _random.Next(200) : 1_000 + _random.Next(20_000))),
            "invalid-utf8" => InvalidUtf8(sample),
            "wrong-content-type" => Utf8(sample),
            "oversized" => Utf8(Oversized()),
            "odd-headers" => Utf8(sample[..Math.Max(1, sample.Length - 1)]),
            "bad-jsonrpc" => Utf8(BadJsonRpc()),
            "bad-session-id" => Utf8(sample),
            _ => _random.Next(3) switch { 0 => null, 1 => [], _ => Utf8(_random.Next(2) == 0 ? "null" : "\"text\"") },
        };

        switch (kind)
        {
            case "wrong-content-type":
                contentType = _random.Next(4) == 0 ? null : ContentTypes[_random.Next(ContentTypes.Length)];
                break;
            case "odd-headers":
                headers.AddRange(OddHeaders());
                break;
            case "bad-session-id":
                var id = _random.Next(3) == 0 ? new string('s', 1 + _random.Next(9_000)) : BadSessionIds[_random.Next(BadSessionIds.Length)];
                headers.Add(("Mcp-Session-Id", Ascii(id)));
                path = WithQuery(path, "sessionId", id);
                break;
        }

        if (target.Mcp && _random.Next(6) == 0)
        {
            headers.Add(("MCP-Protocol-Version", _random.Next(2) == 0 ? "2026-07-28" : "1999-01-01"));
        }

        if (body is not null && target.Method is "GET" or "DELETE" && _random.Next(2) == 0)
        {
            body = null;
        }

        return new FuzzInput(kind, target, path, auth, body, body is null ? null : contentType, headers);
    }

    private string Sample(FuzzTarget target) =>
        samples.TryGetValue($"{target.Method} {target.Template.Split('?')[0]}", out var sample) ? sample
        : target.Mcp ? McpSamples[_random.Next(McpSamples.Length)]
        : """{"reason":"fuzz","id":"x","value":1}""";

    private static readonly string[] McpSamples =
    [
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}""",
        """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}""",
        """{"jsonrpc":"2.0","id":3,"method":"ping"}""",
        """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
        """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"budget_status","arguments":{}}}""",
        """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"browser_extract","arguments":{"url":"http://127.0.0.1:1/","item_selector":"li","fields":{"a":"b"}}}}""",
        """{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"browser_run_task","arguments":{"url":"http://127.0.0.1:1/","steps":[{"action":"click","target":"a"}]}}}""",
        """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"browser_session_close","arguments":{"session_id":"nope"}}}""",
        """{"jsonrpc":"2.0","id":8,"method":"resources/list"}""",
        """{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{"level":"debug"}}""",
    ];

    private string InvalidJson(string sample)
    {
        var builder = new StringBuilder(sample);
        for (var n = 1 + _random.Next(4); n > 0; n--)
        {
            builder.Insert(_random.Next(builder.Length + 1), JunkTokens[_random.Next(JunkTokens.Length)]);
        }

        return builder.ToString();
    }

    private string WrongTypes(string sample)
    {
        JsonNode?[] replacements = [JsonValue.Create(42), JsonValue.Create(true), JsonValue.Create("s"), new JsonArray(1, "a"), new JsonObject { ["x"] = 1 }, null, JsonValue.Create(-1.5)];
        var node = JsonNode.Parse(sample);
        if (node is null)
        {
            return "[]";
        }

        var leaves = Leaves(node).ToList();
        if (leaves.Count == 0)
        {
            return replacements[_random.Next(replacements.Length)]?.ToJsonString() ?? "null";
        }

        for (var n = 1 + _random.Next(Math.Min(3, leaves.Count)); n > 0; n--)
        {
            var (parent, key, index) = leaves[_random.Next(leaves.Count)];
            var value = replacements[_random.Next(replacements.Length)]?.DeepClone();
            if (parent is JsonObject o)
            {
                o[key!] = value;
            }
            else if (parent is JsonArray a)
            {
                a[index] = value;
            }
        }

        return node.ToJsonString();
    }

    private string WithValue(string sample, string raw)
    {
        var node = JsonNode.Parse(sample);
        var leaves = node is null ? [] : Leaves(node).ToList();
        if (leaves.Count == 0)
        {
            return raw;
        }

        var (parent, key, index) = leaves[_random.Next(leaves.Count)];
        const string marker = "\"__HUGE__\"";
        if (parent is JsonObject o)
        {
            o[key!] = "__HUGE__";
        }
        else if (parent is JsonArray a)
        {
            a[index] = "__HUGE__";
        }

        return node!.ToJsonString().Replace(marker, raw, StringComparison.Ordinal);
    }

    private static IEnumerable<(JsonNode Parent, string? Key, int Index)> Leaves(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    yield return (o, key, -1);
                    if (value is not null)
                    {
                        foreach (var leaf in Leaves(value))
                        {
                            yield return leaf;
                        }
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return (a, null, i);
                    if (a[i] is { } value)
                    {
                        foreach (var leaf in Leaves(value))
                        {
                            yield return leaf;
                        }
                    }
                }

                break;
        }
    }

    private string Nested(int depth) =>
        _random.Next(2) == 0
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    private byte[] InvalidUtf8(string sample)
    {
        byte[][] bad = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82]];
        var bytes = Utf8(sample).ToList();
        var quote = bytes.IndexOf((byte)'"', _random.Next(bytes.Count));
        bytes.InsertRange(quote < 0 ? _random.Next(bytes.Count + 1) : quote + 1, bad[_random.Next(bad.Length)]);
        return [.. bytes];
    }

    private string Oversized() => "{\"reason\":\"" + new string('a', (int)bodyLimit + 1 + _random.Next(4096)) + "\"}";

    private IEnumerable<(string, string)> OddHeaders()
    {
        (string, string)[] odd =
        [
            ("X-Huge", new string('h', 40_000)),
            ("Accept", "text/html"),
            ("Accept", "application/json"),
            ("Accept", "*/*;q=0"),
            ("Content-Encoding", "gzip"),
            ("Content-Encoding", "br, deflate, unknown"),
            ("Expect", "100-continue"),
            ("X-Request-Id", new string('r', 2_000)),
            ("Last-Event-ID", "-1"),
            ("Mcp-Session-Id", ""),
            ("Authorization", "Bearer"),
            ("X-Forwarded-For", "not-an-ip"),
            ("Range", "bytes=-1"),
            ("If-None-Match", "*"),
        ];
        for (var n = 1 + _random.Next(3); n > 0; n--)
        {
            yield return odd[_random.Next(odd.Length)];
        }
    }

    private string BadJsonRpc()
    {
        string[] envelopes =
        [
            """{"jsonrpc":"1.0","id":1,"method":"ping"}""",
            """{"id":1,"method":"ping"}""",
            """{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}""",
            """{"jsonrpc":"2.0","id":[1],"method":"tools/list"}""",
            """{"jsonrpc":"2.0","id":1.5e300,"method":"ping"}""",
            """{"jsonrpc":"2.0","id":1,"method":5}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status","arguments":[1,2]}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"browser_extract","arguments":{"item_selector":7,"fields":"x"}}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"browser_run_task","arguments":{"url":"http://127.0.0.1:1/","steps":[{"action":"fly"},null,7]}}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"browser_wait_for","arguments":{"time":1e308}}}""",
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"browser_file_upload","arguments":{"files":[{"name":"a","content":"%%%notbase64"}]}}}""",
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5,"capabilities":"x","clientInfo":null}}""",
            """{"jsonrpc":"2.0","id":1,"method":"initialize"}""",
            """{"jsonrpc":"2.0","id":1,"method":"no/such/method"}""",
            """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":1}}}""",
            """{"jsonrpc":"2.0","id":1,"result":{"x":1}}""",
            """{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":5}}""",
            """{"jsonrpc":"2.0"}""",
            """[]""",
            """[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]""",
            """[1,2,3]""",
            """{"jsonrpc":"2.0","id":null,"method":"ping"}""",
            """{"jsonrpc":"2.0","id":"","method":""}""",
        ];
        return envelopes[_random.Next(envelopes.Length)];
    }

    private string WithQuery(string path, string name, string value)
    {
        var escaped = _random.Next(4) == 0 ? "%FF%C3%28" + Uri.EscapeDataString(value) : Uri.EscapeDataString(value);
        if (path.Contains($"{name}=", StringComparison.Ordinal))
        {
            return path[..path.IndexOf($"{name}=", StringComparison.Ordinal)] + $"{name}={escaped}";
        }

        return path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"{name}={escaped}";
    }

    /// <summary>Header values must be ASCII to be sent at all; the rest of a bad id is tried in the query string.</summary>
    private static string Ascii(string value) => new([.. value.Where(c => c is >= ' ' and < (char)127)]);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A path template with each route parameter replaced by a value that no route expects.</summary>
    public static string Fill(string template, Random random)
    {
        string[] values = ["x", "0", "-1", new string('9', 40), "%FF", "%00", "..%2F..", "a%20b", new string('z', 3_000), "🙂", "null"];
        var builder = new StringBuilder();
        var rest = template;
        while (rest.IndexOf('{', StringComparison.Ordinal) is var open and >= 0)
        {
            builder.Append(rest[..open]);
            var close = rest.IndexOf('}', open);
            var value = values[random.Next(values.Length)];
            builder.Append(value.Any(c => c > 127) ? Uri.EscapeDataString(value) : value);
            rest = rest[(close + 1)..];
        }

        return builder.Append(rest).ToString().Replace("//", "/", StringComparison.Ordinal);
    }
}
