using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Anchor.Orleans.Testing;

/// <summary>
/// Local pages the browser tests drive, served on 127.0.0.1 and addressed as <c>localhost</c> (the name the
/// test silos allow): a form, a list of items, a slow page, a page that changes later, two linked pages — and pages
/// built to misbehave: a script that never ends, a popup loop, an alert on load, an endless body, a download, a
/// redirect loop.
/// </summary>
public sealed partial class FixtureSite : IAsyncLifetime
{
    private WebApplication? _app;

    public int Port { get; private set; }

    /// <summary>The host name the silo's <c>Browser:AllowedHosts</c> lists for these pages.</summary>
    public const string Host = "localhost";

    public string Url(string path) => $"http://{Host}:{Port}{path}";

    /// <summary>A sign-in form for the cookie-auth pages (/account, /account/orders).</summary>
    public const string Login = """
        <!doctype html><title>Sign in</title>
        <form method="post" action="/login">
          <label>User <input name="user"></label>
          <label>Password <input name="password" type="password"></label>
          <button type="submit">Sign in</button>
        </form>
        """;

    public const string Form = """
        <!doctype html><html><head><title>Greeting form</title></head><body>
        <h1>Greeting</h1>
        <label for="name">Name</label><input id="name" name="name">
        <label for="color">Color</label>
        <select id="color"><option value="red">Red</option><option value="blue">Blue</option><option value="green">Green</option></select>
        <button id="greet" onclick="document.getElementById('out').textContent='Hello, '+document.getElementById('name').value+' in '+document.getElementById('color').value">Greet</button>
        <span id="tip" onmouseover="document.getElementById('hover').textContent='Hovered'">Hover me</span>
        <p id="out"></p><p id="hover"></p><p id="key"></p>
        <script>document.getElementById('name').addEventListener('keydown', e => { if (e.key === 'Enter') document.getElementById('key').textContent = 'Submitted ' + e.target.value; });</script>
        </body></html>
        """;

    public const string List = """
        <!doctype html><html><head><title>Products</title></head><body>
        <ul id="products">
          <li class="item"><h2>Kettle</h2><span class="price">$25</span><a href="/p/kettle">details</a></li>
          <li class="item"><h2>Toaster</h2><span class="price">$40</span><a href="/p/toaster">details</a></li>
          <li class="item"><h2>Mug</h2><a href="/p/mug">details</a></li>
        </ul></body></html>
        """;

    public const string Later = """
        <!doctype html><html><head><title>Later</title></head><body><p id="status">Loading</p>
        <script>setTimeout(() => { document.getElementById('status').textContent = 'Ready now'; }, 400);</script>
        </body></html>
        """;

    /// <summary>Its script never yields: the page's main thread is busy forever.</summary>
    public const string Loop = "<!doctype html><title>Loop</title><p>Spinning</p><script>for (;;) {}</script>";

    /// <summary>Loads at once, then keeps its main thread busy ~90 % of the time (45 ms slices with timers between): a CPU-heavy page that still answers.</summary>
    public const string Spin = "<!doctype html><title>Spin</title><p>Busy</p><script>onload = () => { const s = () => { const t = performance.now(); while (performance.now() - t < 45) { } setTimeout(s, 0); }; s(); };</script>";

    /// <summary>Opens a new window every 20 ms, without any click.</summary>
    public const string Popups = "<!doctype html><title>Popups</title><p>Opening windows</p><script>setInterval(() => window.open('/b'), 20)</script>";

    public const string Alert = "<!doctype html><title>Alert</title><script>alert('Hello from the page')</script><p>After the alert</p>";

    public const string NewTabLink = "<!doctype html><title>Tab link</title><a href=\"/b\" target=\"_blank\">open B</a>";

    /// <summary>Asks confirm() and prompt() on click and shows the answers.</summary>
    public const string Dialogs = """
        <!doctype html><title>Dialogs</title>
        <button onclick="document.getElementById('out').textContent = 'confirmed: ' + confirm('Sure?')">Confirm</button>
        <button onclick="document.getElementById('out').textContent = 'name: ' + prompt('Name?')">Prompt</button>
        <p id="out"></p>
        """;

    /// <summary>Shows its viewport size.</summary>
    public const string Size = "<!doctype html><title>Size</title><p id=\"s\"></p><script>const f = () => document.getElementById('s').textContent = 'viewport ' + innerWidth + 'x' + innerHeight; f(); addEventListener('resize', f);</script>";

    /// <summary>Logs to the console at three levels and fetches a URL with a query string.</summary>
    public const string Activity = "<!doctype html><title>Activity</title><script>console.log('hello log'); console.warn('careful'); console.error('broken'); fetch('/b?page=2&token=s3cret').then(r => document.body.append('Fetched ' + r.status));</script>";

    public const string Drag = "<!doctype html><title>Drag</title><div id=\"src\" draggable=\"true\">Drag me</div><div id=\"dst\" style=\"height:50px\" ondragover=\"event.preventDefault()\" ondrop=\"event.preventDefault(); this.textContent = 'Dropped here'\">Drop zone</div>";

    /// <summary>Reports what was dropped on its zone from outside the page: the text/plain data and each file's name and size.</summary>
    public const string Drop = "<!doctype html><title>Drop</title><div id=\"zone\" style=\"height:80px\" ondragover=\"event.preventDefault()\" ondrop=\"event.preventDefault(); const d = event.dataTransfer; document.getElementById('out').textContent = 'text=' + d.getData('text/plain') + ' files=' + [...d.files].map(f => f.name + ':' + f.size).join(',')\">Drop zone</div><p id=\"out\">nothing dropped</p>";

    /// <summary>Posts JSON with a bearer token to <c>/echo</c>, which answers JSON.</summary>
    public const string ApiCall = "<!doctype html><title>Api call</title><script>fetch('/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'authorization': 'Bearer tok-123456' }, body: JSON.stringify({ q: 'kettle' }) }).then(r => r.json()).then(j => document.body.append('Echoed ' + j.got));</script>";

    /// <summary>Shows the colour scheme the page believes in.</summary>
    public const string Scheme = "<!doctype html><title>Scheme</title><p id=\"m\"></p><script>const q = matchMedia('(prefers-color-scheme: dark)'); const f = () => document.getElementById('m').textContent = 'scheme ' + (q.matches ? 'dark' : 'light'); f(); q.addEventListener('change', f);</script>";

    public const string Upload = "<!doctype html><title>Upload</title><input type=\"file\" id=\"f\" onchange=\"document.getElementById('out').textContent = 'got ' + this.files[0].name + ' ' + this.files[0].size + ' bytes'\"><p id=\"out\"></p>";

    /// <summary>Reports where the page was clicked.</summary>
    public const string Xy = "<!doctype html><title>XY</title><body style=\"margin:0;height:100vh\" onclick=\"document.getElementById('out').textContent = 'clicked at ' + event.clientX + ',' + event.clientY\"><p id=\"out\">not clicked</p></body>";

    /// <summary>One large field, focused, without a caret (a blinking caret would paint frames of its own): each key typed is one visible change.</summary>
    public const string Keys = "<!doctype html><title>Keys</title><input id=\"k\" autofocus aria-label=\"keys\" style=\"caret-color:transparent;font-size:40px\">";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/form", () => Html(Form));
        _app.MapGet("/list", () => Html(List));
        _app.MapGet("/later", () => Html(Later));
        _app.MapGet("/a", () => Html("<!doctype html><title>Page A</title><a href=\"/b\">to B</a>"));
        _app.MapGet("/b", () => Html("<!doctype html><title>Page B</title><p>This is B</p>"));
        _app.MapGet("/redirect", (string to) => Results.Redirect(to));
        _app.MapGet("/links", (string to) => Html($"<!doctype html><title>Links</title><a id=\"out\" href=\"{System.Net.WebUtility.HtmlEncode(to)}\">inside</a>"));
        _app.MapGet("/slow", async (int? ms, CancellationToken ct) =>
        {
            await Task.Delay(ms ?? 5000, ct);
            return Html("<!doctype html><title>Slow</title><p>Finally</p>");
        });
        _app.MapGet("/loop", () => Html(Loop));
        _app.MapGet("/spin", () => Html(Spin));
        _app.MapGet("/dialogs", () => Html(Dialogs));
        _app.MapGet("/size", () => Html(Size));
        _app.MapGet("/activity", () => Html(Activity));
        _app.MapGet("/upload", () => Html(Upload));
        _app.MapGet("/xy", () => Html(Xy));
        _app.MapGet("/keys", () => Html(Keys));
        // Chromium (156 on) asks every page's site for its icon and logs a missing one as a console error.
        _app.MapGet("/favicon.ico", () => Results.NoContent());
        _app.MapGet("/drag", () => Html(Drag));
        _app.MapGet("/drop", () => Html(Drop));
        _app.MapGet("/api-call", () => Html(ApiCall));
        _app.MapPost("/echo", async (HttpContext http) =>
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(http.Request.Body);
            return Results.Json(new { got = body.RootElement.GetProperty("q").GetString() });
        });
        _app.MapGet("/scheme", () => Html(Scheme));
        _app.MapGet("/popups", () => Html(Popups));
        _app.MapGet("/alert", () => Html(Alert));
        _app.MapGet("/tab-link", () => Html(NewTabLink));
        _app.MapGet("/redirect-loop", () => Results.Redirect("/redirect-loop"));
        _app.MapGet("/download", () => Results.File("a,b\n1,2\n"u8.ToArray(), "text/csv", "data.csv"));
        _app.MapGet("/set-cookie", (HttpContext http) =>
        {
            http.Response.Headers.Append("Set-Cookie", "flavour=oat; Path=/");
            return Html("<!doctype html><title>Cookie set</title><p>Set</p>");
        });
        // A cookie-auth site: sign in with a form; /account answers only with the cookie the sign-in set.
        _app.MapGet("/login", () => Html(Login));
        _app.MapPost("/login", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var user = form["user"].ToString();
            http.Response.Headers.Append("Set-Cookie", $"auth={Uri.EscapeDataString(user)}; Path=/; HttpOnly");
            return Results.Redirect("/account");
        });
        _app.MapGet("/account", (HttpContext http) => http.Request.Cookies.TryGetValue("auth", out var user) && user.Length > 0
            ? Html($"<!doctype html><title>Account</title><h1>Signed in as {System.Net.WebUtility.HtmlEncode(user)}</h1><a href=\"/account/orders\">Orders</a>")
            : Html("<!doctype html><title>Sign in needed</title><p>Not signed in</p>"));
        _app.MapGet("/account/orders", (HttpContext http) => http.Request.Cookies.TryGetValue("auth", out var user) && user.Length > 0
            ? Html($"<!doctype html><title>Orders</title><h1>Orders of {System.Net.WebUtility.HtmlEncode(user)}</h1><p>Order 1042: 3 items</p>")
            : Html("<!doctype html><title>Sign in needed</title><p>Not signed in</p>"));
        _app.MapGet("/cookie", (HttpContext http) => Html($"<!doctype html><title>Cookie</title><p>Cookie: {System.Net.WebUtility.HtmlEncode(http.Request.Headers.Cookie.ToString())}</p>"));
        // An endless HTML body (no Content-Length), one MB at a time, until the client goes away or mb is reached.
        _app.MapGet("/huge", async (HttpContext http, int? mb) =>
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            var chunk = new byte[1024 * 1024];
            Array.Fill(chunk, (byte)'a');
            for (var i = 0; i < (mb ?? 200) && !http.RequestAborted.IsCancellationRequested; i++)
            {
                await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
            }
        });
        MapUnboundedPages(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = int.Parse(address[(address.LastIndexOf(':') + 1)..].TrimEnd('/'), CultureInfo.InvariantCulture);
    }

    private static IResult Html(string html) => Results.Content(html, "text/html; charset=utf-8");

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
