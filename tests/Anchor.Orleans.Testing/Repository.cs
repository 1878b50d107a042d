namespace Anchor.Orleans.Testing;

/// <summary>The repository the tests run from, for scripts and files they exercise.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Anchor.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Anchor.Orleans.sln not found above the test binaries.");
    }
}
