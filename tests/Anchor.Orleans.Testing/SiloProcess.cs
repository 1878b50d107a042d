using System.Diagnostics;
using System.Globalization;
using System.Text;
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
    public static SiloProcess Start(IDictionary<string, string?> settings, string environment = "Development", int? httpPort = null)
    {
        var dll = typeof(SiloApplication).Assembly.Location;
        var port = httpPort ?? FreePorts.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
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
