using System.IO.Compression;
using System.Text;

namespace Anchor.Orleans.Grains.Tests.Recording;

/// <summary>Small zips shaped as Playwright traces, for the store and cap tests.</summary>
internal static class TraceZips
{
    /// <summary>A zip of <paramref name="entries"/> (name → text), stored uncompressed so sizes are predictable.</summary>
    public static byte[] Of(params (string Name, string Text)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                stream.Write(Encoding.UTF8.GetBytes(text));
            }
        }

        return output.ToArray();
    }

    /// <summary>A trace whose screenshot resource is <paramref name="screenshotBytes"/> long.</summary>
    public static byte[] Trace(string marker, int screenshotBytes = 100) => Of(
        ("trace.trace", $"{{\"type\":\"context-options\",\"title\":\"{marker}\"}}"),
        ("trace.network", "{}"),
        ($"screencast/{marker}.jpeg", new string('x', screenshotBytes)));

    public static string Read(byte[] zip, string name)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var reader = new StreamReader(archive.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }
}
