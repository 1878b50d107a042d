using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Anchor.Orleans.Testing;

/// <summary>
/// Debian's <c>nginx</c> on a free loopback port as a plain L7 balancer: per-request round robin over the given
/// upstreams, no affinity of any kind, no upstream keep-alive, buffering off (as the repo's ingress configures it).
/// WebSockets pass through (HTTP/1.1 with the client's <c>Upgrade</c>, an hour's read timeout: a live view is quiet
/// between frames on a still page). Its access log records which upstream served each request, so tests can prove requests were spread.
/// </summary>
public sealed class NginxBalancer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Process _process;

    private NginxBalancer(string directory, Process process, int port)
    {
        _directory = directory;
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public Uri BaseAddress { get; }

    /// <summary>
    /// The silo (<c>127.0.0.1:port</c>) that answered each request so far, in order: the last upstream nginx tried, for
    /// requests that got an answer from a silo (not nginx's own 502 when none listened).
    /// </summary>
    public IReadOnlyList<string> Upstreams() =>
        File.Exists(AccessLog)
            ? File.ReadAllLines(AccessLog)
                .Select(line => line.Split(' '))
                .Where(fields => fields is [_, .., var status] && status != "502" && fields[0] != "-")
                .Select(fields => fields[^2].TrimEnd(','))
                .ToList()
            : [];

    private string AccessLog => Path.Combine(_directory, "upstreams.log");

    public static async Task<NginxBalancer> StartAsync(IEnumerable<int> upstreamPorts)
    {
        var binary = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run `apt-get install -y nginx` (scripts/test.sh does this as root).");
        var directory = Directory.CreateTempSubdirectory("anchor-nginx-").FullName;
        var port = FreePorts.Next();
        var upstreams = new StringBuilder();
        foreach (var upstream in upstreamPorts)
        {
            // A refused connection (a stopped silo) passes the request to the next server at once; no server is ever marked down.
            upstreams.Append(CultureInfo.InvariantCulture, $"    server 127.0.0.1:{upstream} max_fails=0;\n");
        }

        var config = $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 1024; }
            http {
              log_format upstream '$upstream_addr $status';
              access_log {{directory}}/upstreams.log upstream;
              client_body_temp_path {{directory}}/body;
              proxy_temp_path {{directory}}/proxy;
              fastcgi_temp_path {{directory}}/fastcgi;
              uwsgi_temp_path {{directory}}/uwsgi;
              scgi_temp_path {{directory}}/scgi;
              # A WebSocket upgrade is passed on as one; any other request closes its upstream connection.
              map $http_upgrade $connection_upgrade {
                default upgrade;
                '' close;
              }
              upstream anchor {
            {{upstreams}}  }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://anchor;
                  proxy_http_version 1.1;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection $connection_upgrade;
                  proxy_set_header Host $http_host; # with its port: the live page checks a WebSocket's Origin against it
                  proxy_buffering off;
                  proxy_request_buffering off;
                  proxy_cache off;
                  proxy_read_timeout 3600s;
                  proxy_next_upstream error timeout;
                  proxy_connect_timeout 2s;
                }
              }
            }
            """;
        var configPath = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-p", directory, "-c", configPath, "-e", Path.Combine(directory, "error.log") })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var balancer = new NginxBalancer(directory, process, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"nginx exited: {await File.ReadAllTextAsync(Path.Combine(directory, "error.log"))}");
                }

                // Any answer (even 502 before the silos listen) means nginx is up.
                using var response = await http.GetAsync(new Uri(balancer.BaseAddress, "health/live"));
                return true;
            },
            TimeSpan.FromSeconds(20),
            $"nginx on port {port} to answer");
        return balancer;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
