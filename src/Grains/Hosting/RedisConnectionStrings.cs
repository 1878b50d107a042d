using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>Parses Redis connection strings without ever surfacing their content in an error.</summary>
public static class RedisConnectionStrings
{
    public static bool TryParse(string connectionString, out ConfigurationOptions? options)
    {
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
            return options.EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            options = null;
            return false;
        }
    }

    /// <summary>Parses a connection string known to be valid (validated at start-up).</summary>
    public static ConfigurationOptions Parse(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        // Fail calls fast instead of queueing them forever while Redis is away; health reports it.
        options.AbortOnConnectFail = false;
        return options;
    }
}
