using System.CommandLine;
using BatchOps.Cli.Commands;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace BatchOps.Cli.Serve;

/// <summary><c>batchops serve</c>: the REST API over the job store, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public const string TokenVariable = "BATCHOPS_TOKEN";

    public static Command Create(GlobalOptions global)
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen (default {ServeOptions.DefaultUrls}: this machine only). Any other address needs --token.", DefaultValueFactory = _ => ServeOptions.DefaultUrls };
        var token = new Option<string?>("--token") { Description = $"Require 'Authorization: Bearer TOKEN' on every request (default: {TokenVariable}, if set)." };
        var readOnly = new Option<bool>("--read-only") { Description = "Refuse every request that would change a job (405)." };
        var command = new Command("serve", "Serve the job store over HTTP: a REST API under /api (jobs, items, history, statistics).") { urls, token, readOnly };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var options = new ServeOptions(parse.GetValue(urls)!, parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable), parse.GetValue(readOnly));
            WebApplication app;
            try
            {
                app = DashboardApi.Build(session.Store, options, Engine.Store.StoreLocation.LogFolder(session.StoreFolder), session.LoadSettings());
            }
            catch (ArgumentException error)
            {
                session.Error.WriteLine($"batchops serve: {error.Message}");
                return ExitCodes.Usage;
            }

            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync(session.Interrupt).ConfigureAwait(false);
                }
                catch (IOException error)
                {
                    // Kestrel's bind failure: "Failed to bind to address http://127.0.0.1:5178: address already in use."
                    session.Error.WriteLine($"batchops serve: {error.Message.TrimEnd('.')}. Choose another port with --urls (port 0 picks any free one), or stop what listens there.");
                    return ExitCodes.Usage;
                }

                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                session.Out.WriteLine($"Serving {session.Store.Location} at {string.Join(", ", addresses)}{(options.ReadOnly ? " (read-only)" : string.Empty)}; Ctrl+C stops.");
                session.Out.Flush();
                try
                {
                    await Task.Delay(Timeout.Infinite, session.Interrupt).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: stop serving.
                }

                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
