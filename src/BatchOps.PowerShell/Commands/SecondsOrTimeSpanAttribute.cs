using System.Globalization;
using System.Management.Automation;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// Lets a TimeSpan parameter take a number of seconds too: -RetryDelay 0.5, -RetryDelay ([timespan]'0:0:0.5')
/// and -RetryDelay '00:00:00.5' all mean half a second. Anything else is left to PowerShell's own
/// conversion, which names the parameter when it fails.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecondsOrTimeSpanAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value switch
        {
            TimeSpan span => span,
            string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) => FromSeconds(seconds),
            string text when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) => span,
            byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            _ => inputData,
        };
    }

    private static TimeSpan FromSeconds(double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentTransformationMetadataException($"{seconds} seconds is not a usable delay; give a number of seconds such as 0.5, or a TimeSpan such as '00:00:02'.");
}
