using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// What a POSTed MCP body is, as far as admission needs to know: its JSON-RPC method and, for <c>tools/call</c>, the
/// tool name. <see cref="WellFormed"/> is true only for one JSON-RPC request object (<c>"jsonrpc":"2.0"</c>, a string or
/// number <c>id</c>, a string <c>method</c>, each once; an object <c>params</c>) whose whole body is valid JSON: only
/// such a <c>tools/call</c> reaches the tool pipeline, which counts it; anything else is counted on the way in.
/// </summary>
public sealed record McpMessageShape(string? Method, string? ToolName, bool WellFormed)
{
    /// <summary>Longest method or tool name read; a longer one is no name this service knows.</summary>
    public const int MaxNameBytes = 128;

    public static readonly McpMessageShape Malformed = new(null, null, false);

    public bool IsToolCall => Method == "tools/call";

    /// <summary>
    /// Reads the body once with a forward-only reader: no document is built, nesting is limited, and only the buffer
    /// for the largest single token is held (the body itself is bounded by the route's body limit).
    /// </summary>
    public static async Task<McpMessageShape> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var parser = new Parser();
            var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 64 });
            var filled = 0;
            var final = false;
            while (true)
            {
                if (!final)
                {
                    var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                    final = read == 0;
                    filled += read;
                }

                var consumed = parser.Feed(buffer.AsSpan(0, filled), final, ref state);
                if (consumed < 0)
                {
                    return Malformed;
                }

                if (final)
                {
                    return parser.Result();
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (filled == buffer.Length)
                {
                    // One token is larger than the buffer: hold more of it.
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The same reading over bytes already in memory (tests, small bodies).</summary>
    public static McpMessageShape Read(ReadOnlySpan<byte> json)
    {
        var parser = new Parser();
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 64 });
        return parser.Feed(json, true, ref state) < 0 ? Malformed : parser.Result();
    }

    private sealed class Parser
    {
        private string? _method;
        private string? _toolName;
        private bool _rootIsObject;
        private bool _rootClosed;
        private bool _version;
        private bool _id;
        private bool _params;
        private bool _invalid;
        private bool _started;
        private string? _property;
        private bool _inParams;
        private string? _paramsProperty;

        /// <summary>Reads the complete tokens in <paramref name="data"/>; the bytes consumed, or −1 when it is not JSON.</summary>
        public int Feed(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state)
        {
            var reader = new Utf8JsonReader(data, final, state);
            try
            {
                while (reader.Read())
                {
                    Token(ref reader);
                }
            }
            catch (JsonException)
            {
                return -1;
            }

            state = reader.CurrentState;
            return final && !_started ? -1 : (int)reader.BytesConsumed;
        }

        public McpMessageShape Result() =>
            new(_method, _toolName, _rootIsObject && _rootClosed && !_invalid && _version && _id && _method is not null && (_params || _method != "tools/call"));

        private void Token(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            var type = reader.TokenType;
            if (!_started)
            {
                _started = true;
                _rootIsObject = type == JsonTokenType.StartObject;
                return;
            }

            if (depth == 0)
            {
                _rootClosed = type == JsonTokenType.EndObject && _rootIsObject;
                return;
            }

            if (!_rootIsObject)
            {
                return;
            }

            if (depth == 1)
            {
                if (type == JsonTokenType.PropertyName)
                {
                    _property = Name(ref reader);
                    return;
                }

                var property = _property;
                _property = null;
                switch (property)
                {
                    case "jsonrpc":
                        _invalid |= _version || type != JsonTokenType.String || !reader.ValueTextEquals("2.0"u8);
                        _version = true;
                        break;
                    case "id":
                        _invalid |= _id || type is not (JsonTokenType.String or JsonTokenType.Number);
                        _id = true;
                        break;
                    case "method":
                        _invalid |= _method is not null || type != JsonTokenType.String;
                        _method ??= type == JsonTokenType.String ? Name(ref reader) ?? "" : "";
                        break;
                    case "params":
                        _invalid |= _params || type != JsonTokenType.StartObject;
                        _params = true;
                        _inParams = type == JsonTokenType.StartObject;
                        break;
                    default:
                        // Some other member, or the end of params (EndObject at depth 1).
                        if (type == JsonTokenType.EndObject)
                        {
                            _inParams = false;
                        }

                        break;
                }

                return;
            }

            if (depth == 2 && _inParams)
            {
                if (type == JsonTokenType.PropertyName)
                {
                    _paramsProperty = Name(ref reader);
                    return;
                }

                if (_paramsProperty == "name")
                {
                    _invalid |= _toolName is not null || type != JsonTokenType.String;
                    _toolName ??= type == JsonTokenType.String ? Name(ref reader) ?? "" : "";
                }

                _paramsProperty = null;
            }
        }

        /// <summary>A short string or property name; null for a longer one (no name this service knows is long).</summary>
        private static string? Name(ref Utf8JsonReader reader)
        {
            var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (length > MaxNameBytes * 6)
            {
                return null;
            }

            var text = reader.GetString();
            return text is not null && Encoding.UTF8.GetByteCount(text) <= MaxNameBytes ? text : null;
        }
    }
}
