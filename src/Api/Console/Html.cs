using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// A fragment of HTML that is safe to write as is. Made with <see cref="Of"/> from an interpolated string, whose holes
/// are HTML-encoded unless they are themselves <see cref="Html"/>: the console's pages get Razor's encode-by-default
/// without a Razor build step.
/// </summary>
public readonly record struct Html(string Value)
{
    public static Html Empty { get; } = new("");

    /// <summary>The fragment <paramref name="handler"/> built: literals as written, holes encoded.</summary>
    public static Html Of(ref HtmlHandler handler) => handler.ToHtml();

    /// <summary>The fragments one after another.</summary>
    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    /// <summary><paramref name="html"/> when <paramref name="condition"/> holds, nothing otherwise.</summary>
    public static Html If(bool condition, Html html) => condition ? html : Empty;

    public override string ToString() => Value;
}

/// <summary>Builds an <see cref="Html"/>: literal parts are kept, every hole is HTML-encoded (invariant culture) unless it is <see cref="Html"/>.</summary>
[InterpolatedStringHandler]
public ref struct HtmlHandler
{
    private readonly StringBuilder _builder;

    public HtmlHandler(int literalLength, int formattedCount)
    {
        _builder = new StringBuilder(literalLength + (formattedCount * 16));
    }

    public readonly void AppendLiteral(string value) => _builder.Append(value);

    public readonly void AppendFormatted(Html value) => _builder.Append(value.Value);

    public readonly void AppendFormatted(string? value) => _builder.Append(HtmlEncoder.Default.Encode(value ?? ""));

    public readonly void AppendFormatted<T>(T value, string? format = null)
    {
        var text = value switch
        {
            null => "",
            IFormattable formattable => formattable.ToString(format, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        _builder.Append(HtmlEncoder.Default.Encode(text));
    }

    public readonly Html ToHtml() => new(_builder.ToString());
}
