using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Silo;

namespace Anchor.Orleans.Testing;

/// <summary>The real executable as a child process (as Kubernetes runs it), on 127.0.0.1 with free ports.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, Uri baseAddress)
    {
        Process = process;
        BaseAddress = baseAddress;
    }

    public Process Process { get; }

    public Uri BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="httpPort">The HTTP port; a replacement silo behind a balancer reuses its predecessor's.</param>
    /// <param name="cpus">
    /// The CPUs the silo and everything it starts may run on (<c>taskset -c</c>, e.g. "0"), like a pod's own CPUs:
    /// .NET's processor count and the load sampler's cores follow it. Null: all of the machine's.
    /// </param>
    public static SiloProcess Start(IDictionary<string, string?> settings, string environment = "Development", int? httpPort = null, string? cpus = null)
    {
        var dll = typeof(SiloApplication).Assembly.Location;
        var port = httpPort ?? FreePorts.Next();
        var start = new ProcessStartInfo(cpus is null ? "dotnet" : "taskset")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        if (cpus is not null)
        {
            // taskset executes dotnet in its own process: the id stays the silo's.
            foreach (var arg in new[] { "-c", cpus, "dotnet" })
            {
                start.ArgumentList.Add(arg);
            }
        }

        start.ArgumentList.Add(dll);
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        start.ArgumentList.Add($"--Anchor:Cluster:SiloPort={FreePorts.Next().ToString(CultureInfo.InvariantCulture)}");
        start.ArgumentList.Add($"--Anchor:Cluster:GatewayPort={FreePorts.Next().ToString(CultureInfo.InvariantCulture)}");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        var process = Process.Start(start)!;
        var silo = new SiloProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>The last 2,000 characters the silo wrote (for a failure message).</summary>
    public string OutputTail => Output is { Length: > 2000 } all ? all[^2000..] : Output;

    /// <summary>
    /// Waits until this silo is ready and sees a cluster of <paramref name="silos"/>, through <paramref name="ops"/> (an
    /// operator's client); returns the silo's name as /status gives it.
    /// </summary>
    public async Task<string> ReadyInClusterAsync(HttpClient ops, int silos, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var status = new Uri(BaseAddress, "status");
        await Poll.UntilAsync(
            async () => (await ops.GetAsync(new Uri(BaseAddress, "health/ready"), cancellationToken)).IsSuccessStatusCode
                && (await ops.GetFromJsonAsync<JsonElement>(status, cancellationToken)).GetProperty("silos").GetInt32() == silos,
            timeout,
            $"silo {BaseAddress} to be ready in a cluster of {silos}; output: {OutputTail}");
        return (await ops.GetFromJsonAsync<JsonElement>(status, cancellationToken)).GetProperty("silo").GetString()!;
    }

    /// <summary>Sends SIGTERM, as Kubernetes does when a pod is deleted.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Processes descended from this one whose command line contains <paramref name="marker"/>.</summary>
    public IReadOnlyList<int> Descendants(string marker) =>
        ChromiumProcesses.WithMarker(marker).Where(pid => IsDescendant(pid, Process.Id)).ToList();

    private static bool IsDescendant(int pid, int ancestor)
    {
        for (var current = pid; current > 1;)
        {
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText($"/proc/{current}/stat");
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (parent == ancestor)
                {
                    return true;
                }

                current = parent;
            }
            catch (IOException)
            {
                return false;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }
}
