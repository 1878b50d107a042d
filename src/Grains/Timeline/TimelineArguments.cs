using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Browser;

namespace Anchor.Orleans.Grains.Timeline;

/// <summary>
/// A tool call's arguments as a timeline keeps them: what was typed into a credential field hidden, URLs without their
/// credentials, configured secrets masked, long values cut. The service does not ask the page whether a field is a
/// password input (that would cost a browser round trip per call); it hides the <c>text</c> or <c>value</c> of any
/// argument object whose target (<c>name</c>, <c>element</c>, <c>target</c>, <c>ref</c>, <c>selector</c>, <c>label</c>)
/// names a credential in <see cref="CredentialMasking"/>'s broad sense (password, secret, token, key, auth, …). Typing
/// into a password field the agent describes as nothing of the sort (a bare ref) is therefore shown.
/// </summary>
public static class TimelineArguments
{
    /// <summary>Longest value kept; longer ones (scripts, uploaded files) show their start and their length.</summary>
    public const int MaxValueLength = 300;

    /// <summary>Members that say what an argument object targets.</summary>
    private static readonly string[] TargetMembers = ["name", "element", "target", "ref", "selector", "label"];

    /// <summary>Members that carry what is typed or set into the target.</summary>
    private static readonly string[] InputMembers = ["text", "value"];

    /// <summary>
    /// The arguments of one call, each top-level member as text (objects and arrays as compact JSON), masked. The session
    /// id is left out (the timeline is the session's). <paramref name="redact"/> masks configured secrets, if given.
    /// </summary>
    public static IReadOnlyDictionary<string, string?>? Mask(IEnumerable<KeyValuePair<string, JsonElement>>? arguments, Func<string, string>? redact = null)
    {
        var node = new JsonObject();
        foreach (var (name, value) in arguments ?? [])
        {
            node[name] = JsonSerializer.SerializeToNode(value);
        }

        if (node.Count == 0)
        {
            return null;
        }

        var masked = MaskObject(node, redact);
        var shown = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in masked)
        {
            if (name != "session_id")
            {
                shown[name] = value switch
                {
                    null => null,
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                    _ => Cut(value.ToJsonString()),
                };
            }
        }

        return shown;
    }

    /// <summary>A typed or navigated-to URL as kept: no <c>user:password@</c>, credential query parameters hidden.</summary>
    public static string MaskUrl(string url) => CredentialMasking.MaskUrl(url);

    private static JsonObject MaskObject(JsonObject node, Func<string, string>? redact)
    {
        var credentialTarget = TargetMembers.Any(m => node[m] is JsonValue v && v.GetValueKind() == JsonValueKind.String && CredentialMasking.NamesCredential(v.GetValue<string>()));
        foreach (var (name, value) in node.ToList())
        {
            node[name] = credentialTarget && InputMembers.Contains(name) && value is not null
                ? JsonValue.Create(CredentialMasking.Hidden(value is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s.GetValue<string>() : value.ToJsonString()))
                : MaskNode(value?.DeepClone(), redact);
        }

        return node;
    }

    private static JsonNode? MaskNode(JsonNode? node, Func<string, string>? redact) => node switch
    {
        JsonObject o => MaskObject(o, redact),
        JsonArray a => new JsonArray([.. a.Select(item => MaskNode(item?.DeepClone(), redact))]),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create(MaskText(v.GetValue<string>(), redact)),
        _ => node,
    };

    private static string MaskText(string text, Func<string, string>? redact)
    {
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            text = CredentialMasking.MaskUrl(text);
        }

        return Cut(redact is null ? text : redact(text));
    }

    private static string Cut(string text) =>
        text.Length <= MaxValueLength ? text : $"{text[..MaxValueLength]}… ({text.Length} characters)";
}
