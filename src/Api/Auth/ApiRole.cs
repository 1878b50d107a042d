namespace Anchor.Orleans.Api.Auth;

/// <summary>What an API key may do: agents call tools, operators also run the service.</summary>
public enum ApiRole
{
    Agent,
    Operator,
}
