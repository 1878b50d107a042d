using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>The one way an Anchor options section is bound and validated at start-up.</summary>
public static class OptionsRegistration
{
    public const string Root = "Anchor";

    /// <summary>Binds <c>Anchor:{section}</c> to <typeparamref name="TOptions"/>, validated by annotations on start.</summary>
    public static OptionsBuilder<TOptions> AddAnchorOptions<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        var path = string.IsNullOrEmpty(section) ? Root : $"{Root}:{section}";
        services.AddSingleton<IValidateOptions<TOptions>>(new AnnotatedOptionsValidator<TOptions>(path));
        return services.AddOptions<TOptions>().BindConfiguration(path).ValidateOnStart();
    }
}
