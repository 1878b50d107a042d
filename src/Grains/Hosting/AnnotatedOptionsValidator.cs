using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>
/// Validates an options class by its data annotations and words each failure as one line that names
/// the configuration key (<c>Anchor:Sessions:MaxConcurrent</c>), so an operator knows what to fix.
/// Nested option objects are walked; their keys carry the nested path.
/// </summary>
public sealed class AnnotatedOptionsValidator<TOptions>(string sectionPath) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = new List<string>();
        Collect(options, sectionPath, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Collect(object instance, string path, List<string> failures)
    {
        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var value = property.GetValue(instance);
            var key = $"{path}:{property.Name}";
            var context = new ValidationContext(instance) { MemberName = property.Name, DisplayName = key };
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>())
            {
                var result = attribute.GetValidationResult(value, context);
                if (result is not null && result != ValidationResult.Success)
                {
                    failures.Add($"{result.ErrorMessage} (got '{Describe(value)}')");
                }
            }

            if (value is not null && property.GetCustomAttribute<ValidateNestedAttribute>() is not null)
            {
                Collect(value, key, failures);
            }
        }
    }

    // Values are shown so the operator sees what was read; options holding secrets are never validated by value here.
    private static string Describe(object? value) => value switch
    {
        null => "",
        string s => s,
        System.Collections.IEnumerable e => string.Join(",", e.Cast<object?>()),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>Marks an options property whose own annotations are validated too.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ValidateNestedAttribute : Attribute;
