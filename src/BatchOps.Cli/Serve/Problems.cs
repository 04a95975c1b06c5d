using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace BatchOps.Cli.Serve;

/// <summary>Errors as RFC 9457 problem details (application/problem+json) that name what is wrong and the fix.</summary>
internal static class Problems
{
    public static IResult BadField(string field, string detail) =>
        Results.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = $"Bad value for '{field}'",
            Detail = detail,
            Extensions = { ["field"] = field },
        });

    public static IResult NotFound(string detail) =>
        Results.Problem(new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "Not found", Detail = detail });

    public static Task WriteAsync(HttpContext context, int status, string title, string detail) =>
        Results.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail }).ExecuteAsync(context);
}
