using System.Globalization;
using Anchor.Orleans.Api.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>The console's routes, named once.</summary>
public static class ConsolePaths
{
    public const string Root = "/console";
    public const string SignIn = "/console/sign-in";
    public const string SignOut = "/console/sign-out";
    public const string Sessions = "/console/sessions";
    public const string Clients = "/console/clients";
    public const string Alerts = "/console/alerts";
    public const string Emergency = "/console/emergency";
    public const string Css = "/console/console.css";
    public const string Script = "/console/console.js";

    public static string Session(string sessionId) => $"{Sessions}/{Uri.EscapeDataString(sessionId)}";
}

/// <summary>The pages of the console's navigation, in order.</summary>
public enum ConsolePage
{
    Overview,
    Sessions,
    Clients,
    Alerts,
    Emergency,
}

/// <summary>The page around every console page: landmarks, navigation, who is signed in, sign out; and the small pieces pages share.</summary>
public static class ConsoleLayout
{
    private static readonly (ConsolePage Page, string Path, string Label)[] Navigation =
    [
        (ConsolePage.Overview, ConsolePaths.Root, "Overview"),
        (ConsolePage.Sessions, ConsolePaths.Sessions, "Sessions"),
        (ConsolePage.Clients, ConsolePaths.Clients, "Clients"),
        (ConsolePage.Alerts, ConsolePaths.Alerts, "Alerts"),
        (ConsolePage.Emergency, ConsolePaths.Emergency, "Emergency"),
    ];

    /// <summary>A signed-in page: <paramref name="body"/> in <c>main</c>, under the navigation with <paramref name="current"/> marked.</summary>
    public static IResult Page(HttpContext http, ConsolePage? current, string title, Html body, int status = StatusCodes.Status200OK)
    {
        var grafana = http.RequestServices.GetRequiredService<IOptionsMonitor<ConsoleOptions>>().CurrentValue.GrafanaUrl;
        var links = Html.Join(Navigation.Select(n => n.Page == current
            ? Html.Of($"""<li><a href="{n.Path}" aria-current="page">{n.Label}</a></li>""")
            : Html.Of($"""<li><a href="{n.Path}">{n.Label}</a></li>""")));
        var grafanaLink = string.IsNullOrEmpty(grafana) ? Html.Empty : Html.Of($"""<li><a href="{grafana}">Grafana</a></li>""");
        var external = Html.Of($"""<li><a href="/dashboard">Orleans dashboard</a></li>{grafanaLink}""");
        var header = Html.Of($"""
            <header class="top">
              <span class="brand">Anchor console</span>
              <nav aria-label="Console"><ul>{links}{external}</ul></nav>
              <form method="post" action="{ConsolePaths.SignOut}" class="who">
                {Token(http)}<span>Signed in as <strong>{http.User.GetClientId()}</strong></span>
                <button type="submit">Sign out</button>
              </form>
            </header>
            """);
        return Document(http, title, header, body, status);
    }

    /// <summary>A whole document (also the sign-in page, which has no navigation).</summary>
    public static IResult Document(HttpContext http, string title, Html header, Html body, int status = StatusCodes.Status200OK)
    {
        var html = Html.Of($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Anchor console</title>
            <link rel="stylesheet" href="{ConsolePaths.Css}">
            <script src="{ConsolePaths.Script}" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            {header}
            <main id="main">
            <h1>{title}</h1>
            {body}
            </main>
            </body>
            </html>
            """);
        SetHeaders(http.Response);
        return TypedResults.Content(html.Value, "text/html; charset=utf-8", statusCode: status);
    }

    /// <summary>A fragment a page refreshes by itself (no document around it).</summary>
    public static IResult Fragment(HttpContext http, Html body)
    {
        SetHeaders(http.Response);
        return TypedResults.Content(body.Value, "text/html; charset=utf-8");
    }

    /// <summary>The antiforgery field every state-changing form carries.</summary>
    public static Html Token(HttpContext http)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return Html.Of($"""<input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}">""");
    }

    /// <summary>
    /// A table in a region that scrolls sideways on a narrow screen, focusable and labelled so keyboards reach what is
    /// scrolled off; a column named with a leading <c>#</c> is numeric (right-aligned).
    /// </summary>
    public static Html Table(string label, IReadOnlyList<string> columns, Html rows)
    {
        var head = Html.Join(columns.Select(c => c.StartsWith('#')
            ? Html.Of($"""<th scope="col" class="num">{c[1..]}</th>""")
            : Html.Of($"""<th scope="col">{c}</th>""")));
        return Html.Of($"""<div class="table-wrap" tabindex="0" role="region" aria-label="{label}"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>""");
    }

    /// <summary>A status message (role=status) or an error (role=alert), when there is one.</summary>
    public static Html Notice(string? message, bool error = false) =>
        string.IsNullOrEmpty(message) ? Html.Empty
        : error ? Html.Of($"""<p class="notice error" role="alert">{message}</p>""")
        : Html.Of($"""<p class="notice" role="status">{message}</p>""");

    /// <summary>A horizontal bar: <paramref name="value"/> of <paramref name="limit"/>, labelled for screen readers.</summary>
    public static Html Bar(string label, decimal value, decimal limit)
    {
        var percent = limit <= 0 ? 0 : Math.Min(100, Math.Round(value * 100 / limit, 1));
        var level = percent >= 90 ? "high" : percent >= 70 ? "mid" : "low";
        return Html.Of($"""
            <figure class="bar">
              <figcaption>{label}: {Usd(value)} of {Usd(limit)} ({percent}%)</figcaption>
              <svg viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="{label}: {percent}% of the limit" focusable="false">
                <rect class="track" x="0" y="0" width="100" height="6"/><rect class="fill {level}" x="0" y="0" width="{percent}" height="6"/>
              </svg>
            </figure>
            """);
    }

    /// <summary>A page URL as the console shows it: credentials and credential-named query parameters hidden, as on timelines.</summary>
    public static string? Url(string? url) => url is null ? null : Grains.Timeline.TimelineArguments.MaskUrl(url);

    public static string Usd(decimal value) => value.ToString("$0.00##", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Age(TimeSpan age) =>
        age.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours} h {age.Minutes} min")
        : age.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalMinutes} min {age.Seconds} s")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)age.TotalSeconds)} s");

    private static void SetHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.ContentSecurityPolicy =
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }
}
