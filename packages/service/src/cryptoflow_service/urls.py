"""URL map. Every `/api/` answer is JSON, errors included (`handler404`/`handler500` too)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cryptoflow_service import health
from cryptoflow_service.alerts.views import AlertListView, AlertRuleDetailView, AlertRuleListView
from cryptoflow_service.analysis.views import SignalListView, TopPicksView, TrendReportListView
from cryptoflow_service.dashboard import views as dashboard
from cryptoflow_service.live.views import (
    OrderbookView,
    RealtimePriceDetailView,
    RealtimePriceListView,
    TradesView,
)
from cryptoflow_service.markets.views import MarketDetailView, MarketListView
from cryptoflow_service.marts.views import (
    ArchivedTradesView,
    CandlesView,
    IndicatorsView,
    MarketCandlesView,
    MarketStatsDetailView,
    MarketStatsListView,
)
from cryptoflow_service.prediction.views import PredictView

handler404 = "cryptoflow_service.common.errors.not_found"
handler500 = "cryptoflow_service.common.errors.server_error"

api = [
    path("realtime-price/", RealtimePriceListView.as_view(), name="realtime-price-list"),
    path("realtime-price/<str:market>/", RealtimePriceDetailView.as_view(), name="realtime-price-detail"),
    path("trades/<str:market>/", TradesView.as_view(), name="trades"),
    path("orderbook/<str:market>/", OrderbookView.as_view(), name="orderbook"),
    path("market-stats/", MarketStatsListView.as_view(), name="market-stats-list"),
    path("market-stats/<str:market>/", MarketStatsDetailView.as_view(), name="market-stats-detail"),
    path("candles/", MarketCandlesView.as_view(), name="candles-by-market"),
    path("candles/<str:market>/", CandlesView.as_view(), name="candles"),
    path("trades/", ArchivedTradesView.as_view(), name="archived-trades"),
    path("indicators/<str:market>/", IndicatorsView.as_view(), name="indicators"),
    path("markets/", MarketListView.as_view(), name="markets-list"),
    path("markets/<str:market>/", MarketDetailView.as_view(), name="markets-detail"),
    path("trend-report/", TrendReportListView.as_view(), name="trend-report-list"),
    path("trend-report/top-picks/", TopPicksView.as_view(), name="trend-report-top-picks"),
    path("signals/", SignalListView.as_view(), name="signals-list"),
    path("alert-rules/", AlertRuleListView.as_view(), name="alert-rules-list"),
    path("alert-rules/<int:rule_id>/", AlertRuleDetailView.as_view(), name="alert-rules-detail"),
    path("alerts/", AlertListView.as_view(), name="alerts-list"),
    path("sparklines/", dashboard.SparklineView.as_view(), name="sparklines-list"),
    path("pipeline-health/", dashboard.PipelineHealthView.as_view(), name="pipeline-health"),
    path("predict/", PredictView.as_view(), name="predict"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", dashboard.board, name="dashboard"),
    path("dashboard/", dashboard.old_dashboard),
    path("markets/<str:code>/", dashboard.market, name="dashboard-market"),
    path("alerts/", dashboard.alerts, name="dashboard-alerts"),
    path("health/", dashboard.health, name="dashboard-health"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/", include(api)),
]
