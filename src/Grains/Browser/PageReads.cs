using System.Text.Json;
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
    /// Writes a value as JSON (as <c>JSON.stringify</c> would, plus <c>undefined</c>, <c>NaN</c>, bigints, cycles and
    /// nodes named) and stops at <c>max</c> characters; long strings are cut before they are escaped.
    /// </summary>
    private const string BoundedJsonScript = """
        (value, max) => {
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
          try { write(value, 0); return { text: out, cut: false }; }
          catch (e) { if (e === stop) return { text: out, cut: true }; throw e; }
        }
        """;

    /// <summary>
    /// One record per item, each field a CSS selector relative to the item (its text) or <c>selector@attribute</c>;
    /// stops at the limits and says whether it did.
    /// </summary>
    private const string ExtractScript = """
        (items, [fields, maxRecords, maxValue, maxTotal]) => {
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
                const room = Math.min(maxValue, maxTotal - total);
                if (value.length > room) { value = value.slice(0, Math.max(0, room)) + '…'; truncated = true; }
                total += value.length;
              }
              record[name] = value ? value : null;
            }
            records.push(record);
            if (total >= maxTotal && i + 1 < items.length) { truncated = true; }
          }
          return { records, truncated };
        }
        """;

    /// <summary>
    /// Runs the agent's function on the page (or on an element) and returns its result as JSON, cut at
    /// <see cref="MaxEvaluationChars"/>. The result stays in the page as a handle; only its bounded text crosses.
    /// </summary>
    public static async Task<string> EvaluateAsync(IPage page, ILocator? element, string function, float elementTimeoutMs, ActionDeadline deadline)
    {
        var handle = element is not null
            ? await deadline.Bound(element.EvaluateHandleAsync(function, null, new LocatorEvaluateHandleOptions { Timeout = elementTimeoutMs }))
            : await deadline.Bound(page.EvaluateHandleAsync(function));
        try
        {
            var bounded = await deadline.Bound(handle.EvaluateAsync<JsonElement>(BoundedJsonScript, MaxEvaluationChars));
            var text = bounded.GetProperty("text").GetString() ?? "";
            return bounded.GetProperty("cut").GetBoolean() ? text + $"… (cut at {MaxEvaluationChars} characters)" : text;
        }
        finally
        {
            ActionDeadline.Observe(handle.DisposeAsync().AsTask()); // Frees the value in the page; nobody waits for it.
        }
    }

    /// <summary>The records of <paramref name="a"/> on <paramref name="page"/>, within the extraction limits.</summary>
    public static async Task<ExtractResult> ExtractAsync(IPage page, ExtractAction a, ActionDeadline deadline)
    {
        var read = await deadline.Bound(page.EvalOnSelectorAllAsync<JsonElement>(
            a.ItemSelector, ExtractScript, new object[] { new Dictionary<string, string>(a.Fields), MaxExtractRecords, MaxExtractValueChars, MaxExtractChars }));
        var records = read.GetProperty("records").EnumerateArray()
            .Select(r => (IReadOnlyDictionary<string, string?>)a.Fields.Keys.ToDictionary(
                k => k,
                k => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null))
            .ToList();
        return new ExtractResult(records, PageText.Completeness(records, a.Fields.Count), Cached: false, Truncated: read.GetProperty("truncated").GetBoolean());
    }
}
