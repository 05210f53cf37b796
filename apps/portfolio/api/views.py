from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations import selectors as mlflow
from apps.monitoring import summaries
from apps.portfolio import selectors
from apps.portfolio.api.serializers import PortfolioSerializer
from apps.portfolio.permissions import CanViewPortfolio

PAGE_SIZE = 200  # rows of each list in the answer, as the API has always given


class PortfolioView(APIView):
    """The organisation-wide portfolio: accounts that await their owner's own password; MLflow models' aliases;
    the monitored versions, those breaching now and those not fed for longer than expected."""

    permission_classes = [CanViewPortfolio]

    @extend_schema(responses=PortfolioSerializer)
    def get(self, request: Request) -> Response:
        accounts = selectors.accounts_awaiting_owner(viewer=request.user)
        mlflow_models, mlflow_count = mlflow.portfolio_models(viewer=request.user, limit=PAGE_SIZE)
        data = {
            "accounts_awaiting_owner": accounts[:PAGE_SIZE],
            "accounts_awaiting_owner_count": accounts.count(),
            "mlflow_models": mlflow_models,
            "mlflow_models_count": mlflow_count,
            "monitoring": summaries.portfolio_monitoring(user=request.user),
        }
        return Response(PortfolioSerializer(data).data)
