using System.Globalization;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// Reads of a page whose size the page decides (<c>browser_evaluate</c>, <c>browser_extract</c>), bounded inside the
/// page: the script that runs there stops walking once it has its limit and returns at most that much, so a page
/// that makes a result of hundreds of megabytes (an O(n²) extraction, a huge string) never sends it through the
/// driver to the silo. The limits are constants here, not options: they bound what one call can cost a shared silo.
/// </summary>
public static class PageReads
{
    /// <summary>How much of an evaluation's result (as JSON) goes back to the agent.</summary>
    public const int MaxEvaluationChars = 50_000;

    /// <summary>Records one <c>browser_extract</c> returns at most; items past it are not read.</summary>
    public const int MaxExtractRecords = 1_000;

    /// <summary>Characters of one extracted value at most (whitespace collapsed first).</summary>
    public const int MaxExtractValueChars = 10_000;

    /// <summary>Characters of all extracted values together at most; the walk stops once they are reached.</summary>
    public const int MaxExtractChars = 500_000;

    /// <summary>
    /// Runs the agent's code (a function, called with the element when there is one, or an expression) as Playwright
    /// would, then writes its value as JSON (as <c>JSON.stringify</c> would, plus <c>undefined</c>, <c>NaN</c>, bigints,
    /// cycles and nodes named), stopping at MAX characters; long strings are cut before they are escaped. It answers
    /// one string, "1" (cut) or "0" then the JSON. The page may have replaced any built-in the writer uses, so what
    /// leaves the page is decided last by what a page cannot replace: <c>typeof</c>, a string's length, a literal.
    /// </summary>
    private const string EvaluateBody = """
          const max = MAX;
          const expression = /^(async)?\s*function(\s|\()/.test(source.trim()) ? '(' + source + ')' : source;
          let value = globalThis.eval(expression);
          if (typeof value === 'function') { value = value(element); }
          value = await value;
          let out = '';
          const stop = {};
          const seen = new Set();
          const put = s => {
            if (out.length + s.length > max) { out += s.slice(0, max - out.length); throw stop; }
            out += s;
          };
          const write = (v, depth) => {
            if (v === null) { put('null'); return; }
            switch (typeof v) {
              case 'undefined': put('undefined'); return;
              case 'string': put(JSON.stringify(v.length > max ? v.slice(0, max) : v)); return;
              case 'number': case 'boolean': put(String(v)); return;
              case 'bigint': put(v.toString() + 'n'); return;
              case 'symbol': case 'function': put(JSON.stringify(String(v).slice(0, 200))); return;
            }
            if (typeof Node !== 'undefined' && v instanceof Node) { put(JSON.stringify('<' + v.nodeName.toLowerCase() + '>')); return; }
            if (typeof v.toJSON === 'function') { const j = v.toJSON(); if (j !== v) { write(j, depth); return; } }
            if (seen.has(v)) { put('"[circular]"'); return; }
            if (depth >= 64) { put('"[too deep]"'); return; }
            seen.add(v);
            if (Array.isArray(v)) {
              put('[');
              for (let i = 0; i < v.length; i++) { if (i) put(','); const x = v[i]; if (x === undefined || typeof x === 'function' || typeof x === 'symbol') put('null'); else write(x, depth + 1); }
              put(']');
            } else {
              put('{');
              let first = true;
              for (const k in v) {
                if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
                const x = v[k];
                if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
                if (!first) put(',');
                first = false;
                put(JSON.stringify(k.length > max ? k.slice(0, max) : k));
                put(':');
                write(x, depth + 1);
              }
              put('}');
            }
            seen.delete(v);
          };
          let cut = false;
          try { write(value, 0); } catch (e) { if (e !== stop) throw e; cut = true; }
          if (typeof out !== 'string' || out.length > max) { throw new Error('the page replaced built-in functions; its result was not read'); }
          return (cut ? '1' : '0') + out;
        """;

    private static readonly string EvaluateOnPage = "async (source) => { const element = undefined;\n" + WithLimits(EvaluateBody) + "}";

    private static readonly string EvaluateOnElement = "async (element, source) => {\n" + WithLimits(EvaluateBody) + "}";

    /// <summary>
    /// One record per item, each field a CSS selector relative to the item (its text) or <c>selector@attribute</c>;
    /// stops at the limits and says whether it did.
    /// </summary>
    private const string ExtractBody = """
        (items, fields) => {
          const [maxRecords, maxValue, maxTotal, maxJson] = [MAX_RECORDS, MAX_VALUE, MAX_TOTAL, MAX_JSON];
          const specs = Object.entries(fields).map(([name, spec]) => {
            const at = spec.lastIndexOf('@');
            const attribute = at >= 0 && /^[\w:.-]+$/.test(spec.slice(at + 1).trim()) ? spec.slice(at + 1).trim() : null;
            return [name, attribute ? spec.slice(0, at).trim() : spec.trim(), attribute];
          });
          const records = [];
          let total = 0;
          let truncated = items.length > maxRecords;
          for (let i = 0; i < items.length && i < maxRecords && total < maxTotal; i++) {
            const item = items[i];
            const record = {};
            for (const [name, css, attribute] of specs) {
              const node = css ? item.querySelector(css) : item;
              let value = node ? (attribute ? node.getAttribute(attribute) : (node.innerText ?? node.textContent)) : null;
              if (value !== null && value !== undefined) {
                value = String(value);
                if (value.length > maxValue * 4) { value = value.slice(0, maxValue * 4); }
                value = value.replace(/\s+/g, ' ').trim();
                const room = Math.max(0, Math.min(maxValue, maxTotal - total));
                if (value.length > room) { value = value.slice(0, room) + '…'; total += room; truncated = true; } else { total += value.length; }
              }
              record[name] = value ? value : null;
            }
            records.push(record);
            if (total >= maxTotal && i + 1 < items.length) { truncated = true; }
          }
          // As for evaluate: whatever the page replaced, no more than maxJson characters leave it.
          const json = JSON.stringify({ records, truncated });
          if (typeof json !== 'string' || json.length > maxJson) { throw new Error('the page replaced built-in functions; its records were not read'); }
          return json;
        }
        """;

    private static readonly string ExtractScript = WithLimits(ExtractBody);

    /// <summary>
    /// The most characters an extraction's JSON may have when it leaves the page: every value at most
    /// <see cref="MaxExtractValueChars"/> and all together <see cref="MaxExtractChars"/>, escaped (up to 6 characters
    /// each), with the field names and nulls of <see cref="MaxExtractRecords"/> records. A bound, not a target.
    /// </summary>
    private const int MaxExtractJsonChars = 8_000_000;

    /// <summary>
    /// Runs the agent's function on the page (or on an element) and returns its result as JSON, cut at
    /// <see cref="MaxEvaluationChars"/> in the page: the agent's code travels as an argument, never spliced into the
    /// script, so it cannot step around the bound; only the bounded text crosses the driver.
    /// </summary>
    public static async Task<string> EvaluateAsync(IPage page, ILocator? element, string function, float elementTimeoutMs, ActionDeadline deadline)
    {
        var answer = element is not null
            ? await deadline.Bound(element.EvaluateAsync<string>(EvaluateOnElement, function, new LocatorEvaluateOptions { Timeout = elementTimeoutMs }))
            : await deadline.Bound(page.EvaluateAsync<string>(EvaluateOnPage, function));
        return answer switch
        {
            ['1', ..] => answer[1..] + $"… (cut at {MaxEvaluationChars} characters)",
            ['0', ..] => answer[1..],
            _ => throw new AnchorException(ErrorCodes.BrowserError, "evaluate failed: the page's answer was not readable."),
        };
    }

    private static string WithLimits(string script) => script
        .Replace("MAX_RECORDS", MaxExtractRecords.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("MAX_VALUE", MaxExtractValueChars.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("MAX_TOTAL", MaxExtractChars.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("MAX_JSON", MaxExtractJsonChars.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("MAX", MaxEvaluationChars.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The records of <paramref name="a"/> on <paramref name="page"/>, within the extraction limits.</summary>
    public static async Task<ExtractResult> ExtractAsync(IPage page, ExtractAction a, ActionDeadline deadline)
    {
        var json = await deadline.Bound(page.EvalOnSelectorAllAsync<string>(a.ItemSelector, ExtractScript, new Dictionary<string, string>(a.Fields)));
        using var document = JsonDocument.Parse(json);
        var read = document.RootElement;
        var records = read.GetProperty("records").EnumerateArray()
            .Select(r => (IReadOnlyDictionary<string, string?>)a.Fields.Keys.ToDictionary(
                k => k,
                k => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null))
            .ToList();
        return new ExtractResult(records, PageText.Completeness(records, a.Fields.Count), Cached: false, Truncated: read.GetProperty("truncated").GetBoolean());
    }
}
